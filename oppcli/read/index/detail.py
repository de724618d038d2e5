"""``opp show --format json`` of a working-tree file from the index: the ``show`` JSON an
entry keeps, with what depends on the settings put in."""

from __future__ import annotations

import json
import os
import stat as stat_module
from typing import TYPE_CHECKING

from ...domain.categories import deal_category, stage_category
from ...domain.settings import Settings
from ...store.files import MAX_FILE_BYTES, OPPORTUNITIES_DIR, read_plain
from ...store.git import blob_id
from .db import Index, with_retry
from .entry import make_record, parse
from .worktree import report_settings

if TYPE_CHECKING:
    from ...store.repo import Repo


def working_detail(repo: Repo, opp_id: str) -> dict:
    """``opp show --format json`` of a working-tree file: from the index when it has the
    file's content (else parsed and remembered), after the checks ``Repo.load`` makes."""
    settings = report_settings(repo)
    return with_retry(repo, lambda index: _working_detail(repo, index, opp_id, settings))


def _working_detail(repo: Repo, index: Index | None, opp_id: str,
                    settings: Settings) -> dict:
    relpath = f"{OPPORTUNITIES_DIR}/{opp_id}.yaml"
    path = os.path.join(repo.root, relpath)
    try:
        info = os.lstat(path)
        if (index is None or not stat_module.S_ISREG(info.st_mode)
                or info.st_size > MAX_FILE_BYTES
                or os.path.islink(os.path.join(repo.root, OPPORTUNITIES_DIR))):
            raise OSError
        stat = f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}"
        row = index.file_row(opp_id)
        data = None
        if row is not None and row[0] == stat:
            blob, entry = row[1], row[2]
        else:
            data = read_plain(path)
            blob, entry = blob_id(data), None
        text = index.detail(blob)
        if entry is None:
            entry = index.entries([blob]).get(blob)
        if entry is None or (text is None and entry.rec is not None and entry.err is None):
            if data is None:
                data = read_plain(path)
                blob = blob_id(data)
            entry = parse(data)
            index.write(entries={blob: entry})
            text = entry.detail
    except OSError:  # gone, unreadable, not a file: the careful path words it
        from ...domain.views import detail as full_detail

        return full_detail(repo.load(opp_id), repo.settings)
    make_record(entry, opp_id, relpath, settings)  # the checks Repo.load makes
    assert text is not None  # make_record refused an entry without a detail
    out = json.loads(text)
    stage = settings.stage(out["stage"])
    out.update(stage_label=stage.label, status=stage.kind, probability=stage.probability)
    out["category"], out["category_source"] = deal_category(
        stage.kind, stage_category(stage.id, stage.kind, stage.category),
        out["category"] if out["category_source"] == "set" else None)
    return out  # every key whatever the modules, as views.detail gives it
