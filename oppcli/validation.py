"""``opp validate``: every problem of every file, with its path, line and column."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from .errors import DataError
from .store import CATALOG_FILE, OPPORTUNITIES_DIR, SETTINGS_FILE, Repo


def _relative(repo: Repo, path: Path) -> str:
    full = (Path.cwd() / path).resolve() if not path.is_absolute() else path.resolve()
    try:
        return full.relative_to(repo.root).as_posix()
    except ValueError:
        return path.as_posix()


def validate_repo(repo: Repo, paths: Optional[list[Path]] = None
                  ) -> tuple[list[DataError], int]:
    """(errors, number of files checked). The settings come first: without them
    no opportunity can be checked; given among ``paths``, every file is checked."""
    from .model import Catalog, Settings

    if paths is not None and SETTINGS_FILE in (_relative(repo, p) for p in paths):
        paths = None  # every opportunity depends on the settings: check them all
    errors: list[DataError] = []
    data, node = None, None
    try:
        data, node = repo.read_yaml(SETTINGS_FILE)
        settings = repo.model_errors(Settings, SETTINGS_FILE, data, node)
    except DataError as exc:
        settings = [exc]
    if isinstance(settings, list):
        return settings, 1
    repo.__dict__["settings"] = settings

    if paths is None:
        targets = [CATALOG_FILE]
        folder = repo.root / OPPORTUNITIES_DIR
        if folder.is_dir():
            targets += sorted(f"{OPPORTUNITIES_DIR}/{p.name}" for p in folder.iterdir()
                              if not p.name.startswith("."))
    else:
        targets = [_relative(repo, p) for p in paths]
    checked = 1
    for rel in targets:
        if rel == SETTINGS_FILE:
            continue
        checked += 1
        if rel == CATALOG_FILE:
            try:
                data, node = repo.read_yaml(CATALOG_FILE, required=False)
            except DataError as exc:
                errors.append(exc)
                continue
            if data is not None:
                result = repo.model_errors(Catalog, CATALOG_FILE, data, node)
                if isinstance(result, list):
                    errors += result
            continue
        if not (rel.startswith(f"{OPPORTUNITIES_DIR}/") and rel.count("/") == 1):
            checked -= 1  # not an opp file (a pre-commit hook may pass others): skip
            continue
        if not rel.endswith(".yaml") or (repo.root / rel).is_dir():
            errors.append(DataError("not an opportunity file; opportunities are "
                                    f"{OPPORTUNITIES_DIR}/<id>.yaml", rel))
            continue
        result = repo.load_errors(rel)
        if isinstance(result, list):
            errors += result
    return errors, checked
