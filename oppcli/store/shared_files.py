"""The three files a whole team shares, each changed whole by one commit: ``opp.yaml``
(the settings), ``catalog.yaml`` and ``quotas.yaml``. The command line hands over the
edit (a pure function of the file's model); this module runs it under the repo lock,
refuses to overwrite a hand edit of the file, and builds the commit's subject.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..domain.quotas import Quota
from .files import CATALOG_FILE, OPPORTUNITIES_DIR, QUOTAS_FILE, SETTINGS_FILE
from .git import one_line

if TYPE_CHECKING:
    from ..domain.model import Catalog
    from ..domain.settings import Settings
    from .repo import Repo


def change_catalog(repo: Repo, verb: str, words: str,
                   edit: Callable[[Catalog], tuple[Catalog, str]]) -> tuple[str, bool]:
    """``edit(catalog) -> (catalog, sku)`` as one commit whose subject reads ``catalog:
    VERB SKU WORDS``, with the SKU as the catalog spells it. Returns the SKU and whether
    anything changed (nothing is committed when nothing did)."""
    from ..domain.products import require_module

    with repo.transaction() as tx:
        require_module(repo.settings, "catalog")
        tx.refuse_hand_edits([CATALOG_FILE])
        updated, sku = edit(repo.catalog)
        tx.save_model(CATALOG_FILE, updated)
        tx.subject = one_line(f"catalog: {verb} {sku} {words}".strip())
        tx.kind = f"catalog-{verb}"
    return sku, bool(tx.writes)


def change_settings(repo: Repo, kind: str,
                    edit: Callable[[Settings], tuple[Settings, str]]) -> tuple[str, bool]:
    """``edit(settings) -> (settings, words)`` to opp.yaml as one commit whose subject
    holds the words, once every opportunity is found to still hold under the new
    settings (else the refusal names them). Returns the words and whether anything
    changed (nothing at all when the settings stay the same)."""
    from ..domain.settings_edit import breakages, refusal

    with repo.transaction() as tx:
        tx.refuse_hand_edits([SETTINGS_FILE])
        old = repo.settings
        new, words = edit(old)
        if new == old:
            return words, False
        broken = breakages(_opportunities(repo), old, new)
        if broken:
            raise refusal(broken)
        tx.save_settings(new)
        tx.kind = kind
        tx.subject = one_line(f"settings: {words}")
    return words, True


def _opportunities(repo: Repo) -> list:
    """Every opportunity that holds now; one that is already broken (by a hand edit)
    is not a change's doing, and `opp validate` reports it."""
    results = (repo.load_errors(f"{OPPORTUNITIES_DIR}/{i}.yaml") for i in repo.ids())
    return [r for r in results if not isinstance(r, list)]


def change_quotas(repo: Repo, subject: str, kind: str,
                  edit: Callable[[list[Quota]], tuple[list[Quota], Any]]) -> Any:
    """``edit(quotas) -> (quotas, result)`` (the domain's quotas, as stored) as one
    commit with this subject. Returns the edit's result."""
    from ..domain.model import Quotas

    with repo.transaction() as tx:
        tx.refuse_hand_edits([QUOTAS_FILE])
        updated, result = edit(stored_quotas(repo))
        tx.save_model(QUOTAS_FILE, Quotas.model_validate(
            {"quotas": [{**q.as_dict(), "amount": q.amount} for q in updated]}))
        tx.subject = one_line(subject)
        tx.kind = kind
    return result


def stored_quotas(repo: Repo) -> list[Quota]:
    """``quotas.yaml`` as the domain's quotas (checked; none when there is no file)."""
    return [Quota(q.owner, q.period, q.amount, q.currency) for q in repo.quotas.quotas]
