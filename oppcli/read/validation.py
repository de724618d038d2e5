"""``opp validate``: every problem of every file, with its path, line and column."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataError
from ..store.files import CATALOG_FILE, OPPORTUNITIES_DIR, QUOTAS_FILE, SETTINGS_FILE
from ..store.repo import Repo


def _relative(repo: Repo, path: Path) -> str | None:
    """The path relative to the data repo's root; None when it lies outside."""
    try:
        full = (Path.cwd() / path).resolve() if not path.is_absolute() else path.resolve()
        return full.relative_to(repo.root).as_posix()
    except (ValueError, OSError):  # outside, or no path at all (too long, a NUL byte)
        return None


def _given(repo: Repo, paths: list[Path]) -> tuple[list[str], list[DataError]]:
    """The repo-relative targets among ``paths``, and an error for each path that is not a
    file opp checks: a mistyped path must fail, never pass unchecked."""
    targets, errors = [], []
    for path in paths:
        rel = _relative(repo, path)
        if rel is None:
            errors.append(DataError(f"not in the data repo {repo.root}", str(path)))
        elif not os.path.lexists(repo.root / rel):
            errors.append(DataError("no such file", rel))
        elif rel in (SETTINGS_FILE, CATALOG_FILE, QUOTAS_FILE) or (
                rel.startswith(f"{OPPORTUNITIES_DIR}/") and rel.count("/") == 1):
            targets.append(rel)
        else:
            errors.append(DataError("not a file opp checks (opp.yaml, catalog.yaml or "
                                    f"{OPPORTUNITIES_DIR}/<id>.yaml)", rel))
    return targets, errors


def validate_repo(repo: Repo, paths: list[Path] | None = None
                  ) -> tuple[list[DataError], int]:
    """(errors, number of files checked). The settings come first: without them
    no opportunity can be checked; given among ``paths``, every file is checked."""
    from ..domain.model import Catalog, Quotas, Settings

    errors: list[DataError] = []
    if paths is not None:
        given, errors = _given(repo, paths)
        if SETTINGS_FILE in given:
            paths = None  # every opportunity depends on the settings: check them all
    data, node = None, None
    try:
        data, node = repo.read_yaml(SETTINGS_FILE)
        settings = repo.model_errors(Settings, SETTINGS_FILE, data, node)
    except DataError as exc:
        settings = [exc]
    if isinstance(settings, list):
        return settings + errors, 1 + len(errors)
    repo.__dict__["settings"] = settings

    if paths is None:
        targets = [CATALOG_FILE]
        if os.path.lexists(repo.root / QUOTAS_FILE):
            targets.append(QUOTAS_FILE)
        folder = repo.root / OPPORTUNITIES_DIR
        if folder.is_dir():
            targets += sorted(f"{OPPORTUNITIES_DIR}/{p.name}" for p in folder.iterdir()
                              if not p.name.startswith("."))
    else:
        targets = given
    checked = 1 + len(errors)
    for rel in targets:
        if rel == SETTINGS_FILE:
            continue
        checked += 1
        if rel in (CATALOG_FILE, QUOTAS_FILE):
            try:
                data, node = repo.read_yaml(rel, required=False)
            except DataError as exc:
                errors.append(exc)
                continue
            if data is not None:
                model = Catalog if rel == CATALOG_FILE else Quotas
                found = repo.model_errors(model, rel, data, node)
                if isinstance(found, list):
                    errors += found
            continue
        if not rel.endswith(".yaml"):  # a folder or link named *.yaml: load_errors says so
            errors.append(DataError("not an opportunity file; opportunities are "
                                    f"{OPPORTUNITIES_DIR}/<id>.yaml", rel))
            continue
        result = repo.load_errors(rel)
        if isinstance(result, list):
            errors += result
    return errors, checked
