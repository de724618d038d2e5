"""Account files (``accounts/<ID>.yaml``): reading them, fully checked, and changing one
as one commit (``account_change``), like opportunities.

Lookups by name go through ``directory(repo)``: every account as plain data. It reads
through ``Repo.accounts_reader`` when a cache above storage installed one (the index,
which keeps each file parsed, and the whole directory by the folder's stat data; it
may give the accounts or the ``Directory``), else parses every file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..domain import accounts as rules
from ..domain import ids, stages
from ..domain.accounts import (
    Directory,
    Entry,
    merged_account,
    moved,
    new_account,
    person_ids,
    pick,
    references,
)
from ..domain.ids import new_id, new_item_id
from ..env import today as today_
from ..errors import DataError, NotFound, RuleError
from .files import ACCOUNTS_DIR, OPPORTUNITIES_DIR, read_data_file
from .repo import yamlio

if TYPE_CHECKING:
    from .repo import Repo
    from .transaction import Transaction


def relpath_of(account_id: str) -> str:
    return f"{ACCOUNTS_DIR}/{account_id}.yaml"


def account_ids(repo: Repo) -> list[str]:
    """Every account id, from the file names, sorted."""
    return repo.account_ids()


def load_errors(repo: Repo, relpath: str):
    """An account file checked in full: the model, or every ``DataError`` it has."""
    from ..domain.model import Account

    try:
        data, node = repo.read_yaml(relpath)
    except DataError as exc:
        return [exc]
    result = repo.model_errors(Account, relpath, data, node)
    if isinstance(result, list):
        return result
    expected = relpath.rsplit("/", 1)[-1][:-5]
    if result.id != expected:
        line, column = yamlio.locate(node, ("id",))
        return [DataError(f"id '{result.id}' does not match the file name {expected}.yaml",
                          relpath, line, column)]
    ids = [p.id for p in result.people]
    if len(set(ids)) != len(ids):
        return [DataError("people: two people share an id", relpath)]
    return result


def load(repo: Repo, account_id: str):
    """One account, fully checked; ``DataError`` naming file and line otherwise."""
    relpath = relpath_of(account_id)
    if not os.path.lexists(repo.root / relpath):
        raise NotFound(f"no account '{account_id}'; list them with: opp account list")
    result = load_errors(repo, relpath)
    if isinstance(result, list):
        raise result[0]
    return result


def plain(account) -> dict[str, Any]:
    """An account as JSON data (what the directory and the index keep)."""
    return account.model_dump(mode="json")


def parsed_accounts(repo: Repo) -> list[dict[str, Any]]:
    """Every account as plain data, each file parsed (no cache)."""
    return [plain(load(repo, i)) for i in account_ids(repo)]


def directory(repo: Repo) -> Directory:
    """Every account of the repo, for lookups by id, name or alias (kept for the
    command; a transaction takes a fresh one under its lock)."""
    found = repo.__dict__.get("_directory")
    if found is None:
        reader = getattr(repo, "accounts_reader", None)
        items = reader(repo) if reader is not None else parsed_accounts(repo)
        found = items if isinstance(items, Directory) else Directory.of(items)
        repo.__dict__["_directory"] = found
    return found


def resolve(repo: Repo, ref: str) -> str:
    """The id of the one account ``ref`` names (id, id prefix, name or alias)."""
    return directory(repo).resolve(ref).id


@contextmanager
def account_change(repo: Repo, ref: str, kind: str) -> Iterator[Transaction]:
    """A change to one account as one commit: ``tx.opportunity`` holds the account
    loaded under the lock; the body replaces it and sets ``tx.action``."""
    from .transaction import account_subject

    with repo.transaction() as tx:
        tx.kind = kind
        account_id = resolve(repo, ref)
        relpath = relpath_of(account_id)
        tx.refuse_hand_edits([relpath])
        try:
            before = load(repo, account_id)
        except DataError as exc:
            raise DataError(f"{exc.message}; opp changes only valid files: fix this one by "
                            "hand (opp validate lists every problem)", exc.path, exc.line,
                            exc.column) from None
        tx.opportunity = before
        yield tx
        if tx.opportunity is not None and tx.opportunity != before:
            tx.save_account(tx.opportunity)
        if tx.writes:
            tx.subject = tx.subject or account_subject(tx.opportunity or before, tx.action)
            tx.trailers.setdefault("Opp-Account", account_id)


# ---------------------------------------------------------------- changes


def fresh_id(repo: Repo) -> str:

    return new_id(set(repo.account_ids()))


def add(repo: Repo, name: str, *, today, aliases=(), **fields: Any):
    """``opp account add``: a new account file, one commit; the account."""
    from .transaction import account_subject

    with repo.transaction() as tx:
        tx.kind = "account-add"
        account = new_account(fresh_id(repo), name, directory(repo), today=today,
                              aliases=aliases, **fields)
        tx.save_account(account)
        tx.subject = account_subject(account, "new account")
        tx.trailers["Opp-Account"] = account.id
    return account


def customer_account(tx: Transaction, query: str, *, today, create: bool | None = None,
                     what: str = "customer") -> tuple[str, Any]:
    """The account id a deal's ``--customer X`` (or a partner's account) names, inside
    the change ``tx``: an existing account, or one created in the same commit (returned
    second, None otherwise)."""

    repo = tx.repo
    found = directory(repo)
    chosen = pick(found, query, create=create, what=what)
    if chosen.entry is not None:
        return chosen.entry.id, None
    account = new_account(fresh_id(repo), chosen.name, found, today=today)
    tx.save_account(account)
    # the next look-up of this change (another partner, say) finds it
    repo.__dict__["_directory"] = Directory([*found.by_id.values(), Entry.of(plain(account))])
    return account.id, account


def linked(tx: Transaction, panel: str, fields: dict[str, Any], *, today,
           create: bool | None = None) -> tuple[dict[str, Any], list[str]]:
    """A relation's fields with what they name resolved, inside the change ``tx``:

    - a partner's or competitor's ``account`` becomes an account id, exactly as ``opp
      new --customer`` resolves it (the account created in the same commit when none
      matches; near names refused unless ``create``; ``create=False`` never creates);
    - a contact's ``name`` becomes one of the people of the customer's account (by
      name, case-insensitive), added to it in the same commit when none matches; the
      contact keeps the person's id in ``person``. A deal whose customer is still text
      (a repo not upgraded) keeps its contacts as text.

    Returns the fields and what was created, in words (for stderr)."""
    repo, opp = tx.repo, tx.opportunity
    stages.ensure_open(opp, repo.settings, f"change its {panel}")  # R17 before creating
    out, made = dict(fields), []
    if panel in ("partners", "competitors") and out.get("account"):
        out["account"], account = customer_account(tx, out["account"], today=today,
                                                    create=create, what="account")
        if account is not None:
            made.append(f"created account {account.id} {account.name}")
    elif panel == "contacts" and out.get("name") and opp.customer in directory(repo):
        account = load(repo, opp.customer)
        after, person, added = rules.contact_person(
            account, out["name"], new_item_id({p.id for p in account.people}),
            email=out.get("email"), phone=out.get("phone"))
        out["name"], out["person"] = person.name, person.id
        if added:
            tx.refuse_hand_edits([relpath_of(account.id)])
            tx.save_account(after)
            made.append(f"added person {person.id} {person.name} to account {account.id} "
                        f"{account.name}")
    return out, made


def named(repo: Repo, item: Any) -> Any:
    """A relation as people read it (messages, commit subjects): a partner's or
    competitor's account by its name."""
    account = getattr(item, "account", None)
    if account is None:
        return item
    return item.model_copy(update={"account": directory(repo).name_of(account)})


def referencing(repo: Repo, account_id: str) -> list[Any]:
    """The opportunities naming this account (customer, partner or competitor): each
    file's bytes are searched for the id, and only those holding it are parsed."""

    needle = account_id.encode()
    out = []
    for opp_id in repo.ids():
        data = read_data_file(repo.root, f"{OPPORTUNITIES_DIR}/{opp_id}.yaml",
                              yamlio.MAX_FILE_BYTES)
        if data and needle in data:
            opp = repo.load(opp_id)
            if references(opp, account_id):
                out.append(opp)
    return out


def merge(repo: Repo, source_ref: str, target_ref: str):
    """``opp account merge FROM INTO``: every deal naming FROM names INTO, FROM's name
    and aliases become INTO's aliases, FROM's file goes; one commit. Returns (INTO as
    merged, the deals changed)."""
    from .transaction import account_subject

    with repo.transaction() as tx:
        tx.kind = "account-merge"
        found = directory(repo)
        source_id, target_id = found.resolve(source_ref).id, found.resolve(target_ref).id
        if source_id == target_id:
            raise RuleError(f"'{source_ref}' and '{target_ref}' are the same account "
                            f"{found.by_id[source_id].words()}; nothing to merge")
        source, target = load(repo, source_id), load(repo, target_id)
        deals = referencing(repo, source_id)
        paths = [relpath_of(source_id), relpath_of(target_id),
                 *(f"opportunities/{d.id}.yaml" for d in deals)]
        tx.refuse_hand_edits(paths)
        after = merged_account(source, target)
        people = person_ids(source, after)
        tx.save_account(after)
        tx.write(relpath_of(source_id), None)
        changed = []
        for opp in deals:
            new = moved(opp, source_id, target_id, people)
            tx.save_opportunity(new)
            changed.append(new)
        tx.subject = account_subject(after, f"merge {source_id} {source.name} into it, "
                                            f"{len(changed)} deal(s) moved")
        tx.trailers["Opp-Account"] = target_id
    return after, source, changed


def remove(repo: Repo, ref: str):
    """``opp account remove``: refused while a deal names the account; one commit."""
    from .transaction import account_subject

    with repo.transaction() as tx:
        tx.kind = "account-remove"
        account_id = resolve(repo, ref)
        account = load(repo, account_id)
        deals = referencing(repo, account_id)
        if deals:
            shown = ", ".join(f"{d.id} ({d.name})" for d in deals[:5])
            more = f" and {len(deals) - 5} more" if len(deals) > 5 else ""
            raise RuleError(f"account {account.id} ({account.name}) is named by "
                            f"{len(deals)} deal(s): {shown}{more}; move them first, e.g. "
                            f"opp account merge {account.id} OTHER")
        tx.refuse_hand_edits([relpath_of(account_id)])
        tx.write(relpath_of(account_id), None)
        tx.subject = account_subject(account, "remove")
        tx.trailers["Opp-Account"] = account_id
    return account


def new_deal(repo: Repo, *, name: str, customer: str, create: bool | None, stage, **fields):
    """``opp new``: the opportunity, with its customer resolved to an account or the
    account created, in one commit. Returns (opportunity, the account created or None)."""
    from .transaction import opportunity_subject

    with repo.transaction() as tx:
        settings = repo.settings
        chosen = stages.resolve_stage(settings, stage) if stage else None
        day = today_()
        customer_id, created = customer_account(tx, customer, today=day, create=create)
        from ..domain import opportunity  # here: the models load first, while git answers

        opp = opportunity.new_opportunity(
            settings, opp_id=ids.new_id(repo.taken_ids()), name=name, customer=customer_id,
            owner=fields.pop("owner", None) or repo.identity.name, today=day, stage=chosen,
            **fields)
        tx.save_opportunity(opp)
        tx.kind = "new"
        shown = created.name if created is not None else directory(repo).name_of(customer_id)
        tx.subject = opportunity_subject(opp, f"new opportunity for {shown}")
        tx.trailers["Opp-Id"] = opp.id
    return opp, created


@dataclass
class Changed:
    id: str
    action: str


def set_customer(repo: Repo, ref: str, query: str, create: bool | None = None
                 ) -> tuple[Changed, Any]:
    """``opp set ID customer X``: X resolved as ``opp new`` resolves it (the account
    created in the same commit when none matches; ``create`` as its --create/--no-create).
    Returns (what changed, the account created or None)."""
    from ..domain import opportunity

    with repo.change(ref, "set") as tx:
        before = tx.opportunity
        customer_id, created = customer_account(tx, query, today=today_(), create=create)
        tx.opportunity = opportunity.set_field(before, repo.settings, "customer", customer_id)
        found = directory(repo)
        old, new = found.name_of(before.customer), found.name_of(customer_id)
        tx.action = f"set customer {old} -> {new}" if customer_id != before.customer else ""
    return Changed(before.id, tx.action if tx.writes else ""), created


def change_account(repo: Repo, ref: str, kind: str, how: str, arg: Any
                   ) -> tuple[str, str, str | None]:
    """One change to one account as one commit, by the rule ``how`` of
    ``domain.accounts`` (edit_account, add_alias, add_person, edit_person,
    remove_person). Returns (account id, the action in words or '' when nothing
    changed, the new person's id for add_person)."""

    extra = None
    with account_change(repo, ref, kind) as tx:
        before = tx.opportunity
        found = directory(repo)
        if how == "edit_account":
            after = rules.edit_account(before, arg, found)
            changed = [k for k in rules.EDITABLE if getattr(after, k) != getattr(before, k)]
            tx.action = "edit " + ", ".join(
                f"{k} {getattr(before, k) or 'none'} -> {getattr(after, k) or 'none'}"
                for k in changed)
        elif how == "add_alias":
            after = rules.add_alias(before, arg, found)
            tx.action = f"alias {arg.strip()}"
        elif how == "add_person":
            extra = new_item_id({p.id for p in before.people})
            after = rules.add_person(before, extra, **arg)
            tx.action = f"add person {arg['name']} ({extra})"
        else:
            who, changes = arg if how == "edit_person" else (arg, {})
            chosen = rules.find_person(before, who)
            if how == "edit_person":
                after = rules.edit_person(before, chosen.id, changes)
                tx.action = f"edit person {chosen.name} ({chosen.id})"
            else:
                after = rules.remove_person(before, chosen.id)
                tx.action = f"remove person {chosen.name} ({chosen.id})"
        tx.opportunity = after
    return before.id, tx.action if tx.writes else "", extra


@dataclass
class Grouped:
    """What ``opp init --upgrade`` made of the customer, partner and competitor texts:
    one account per distinct name (as names resolve), with the spellings it took."""

    account_id: str
    name: str
    created: bool
    spellings: list[str]
    deals: int


def accounts_from_text(tx: Transaction, today) -> tuple[list[Grouped], list[str]]:
    """Turn every deal's customer text (and each partner's or competitor's account
    text) into an account id, creating one account per distinct name (existing
    accounts are reused, matched by name or alias), within the change ``tx``; and fold
    the partners, competitors and contacts that name one party twice (``panels.
    fold_twins``). Returns the accounts and, in words, each entry folded."""
    from ..domain.panels import fold_twins

    repo = tx.repo
    found = directory(repo)
    groups: dict[str, Grouped] = {}
    created: set[str] = set()

    def account_for(text: str) -> str:
        nonlocal found
        if text in found.by_id:
            return text
        named = found.named(text)  # by name or alias only, never a prefix
        if named is not None:
            entry = named
        else:
            account = new_account(fresh_id(repo), text, found, today=today)
            tx.save_account(account)
            entry = Entry.of(plain(account))
            created.add(entry.id)
            found = Directory([*found.by_id.values(), entry])
        group = groups.setdefault(entry.id, Grouped(entry.id, entry.name,
                                                    entry.id in created, [], 0))
        if text not in group.spellings:
            group.spellings.append(text)
        return entry.id

    changed = []
    folded: list[str] = []
    for opp_id in repo.ids():
        opp = repo.load(opp_id)
        update: dict[str, Any] = {}
        if opp.customer not in found.by_id:
            update["customer"] = account_for(opp.customer)
            groups[update["customer"]].deals += 1
        partners = [p if p.account in found.by_id else
                    p.model_copy(update={"account": account_for(p.account)})
                    for p in opp.partners]
        competitors = [c if c.account in found.by_id else
                       c.model_copy(update={"account": account_for(c.account)})
                       for c in opp.competitors]
        if partners != opp.partners:
            update["partners"] = partners
        if competitors != opp.competitors:
            update["competitors"] = competitors
        after, words = fold_twins(opp.model_copy(update=update), found)
        folded += [f"deal {opp.id}: {w}" for w in words]
        if after != opp:
            changed.append(after)
    tx.refuse_hand_edits([f"{OPPORTUNITIES_DIR}/{o.id}.yaml" for o in changed])
    for opp in changed:
        tx.save_opportunity(opp)
    repo.__dict__["_directory"] = found
    return sorted(groups.values(), key=lambda g: g.name.casefold()), folded


def with_names(repo: Repo, opps: list) -> list:
    """Opportunities whose customer shows the account's name (what an import compares
    a row's ``customer`` cell with, and what export writes)."""
    found = directory(repo)
    return [o.model_copy(update={"customer": found.name_of(o.customer)})
            if o.customer in found.by_id else o for o in opps]


def with_accounts(tx: Transaction, opps: list, today, ids: Mapping[str, str] | None = None
                  ) -> tuple[list, int]:
    """Opportunities whose customer text is resolved to an account id, the accounts that
    match none created within ``tx`` (an import: one commit), with the id ``ids`` gives
    their normalised name (an import's ``customer_id`` column), else a new one. Returns
    them and the number of accounts created."""

    repo = tx.repo
    found = directory(repo)
    created = 0
    out = []
    for opp in opps:
        named = found.named(opp.customer)
        if named is not None:
            account_id = named.id
        else:
            wanted = (ids or {}).get(rules.normalise(opp.customer))
            account = new_account(wanted if wanted and wanted not in found else
                                  fresh_id(repo), opp.customer, found, today=today)
            tx.save_account(account)
            created += 1
            found = Directory([*found.by_id.values(), Entry.of(plain(account))])
            account_id = account.id
        out.append(opp.model_copy(update={"customer": account_id}))
    repo.__dict__["_directory"] = found
    return out, created
