"""Accounts and people: the customer is a record ("il cliente è l'anagrafica").

Pure rules over plain account data: how a name is compared (case, punctuation and
legal suffixes ignored), how ACCOUNT resolves (an id, an id prefix, a name or an
alias), a VAT number never on two accounts (``vat.py`` checks one), and the changes
to an account file: add, edit, alias, merge, people. Models are ``model.Account`` and
``model.Person``; a read that only resolves names works on ``Directory``, built from
plain dicts, and never loads pydantic.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import NotFound, RuleError, UsageError
from .addresses import check_email, check_website
from .ids import new_item_id
from .lazy import Built, Later
from .vat import check_vat, country_code

# legal forms left out when names are compared: "ACME S.r.l." is "Acme"
LEGAL_SUFFIXES = frozenset({
    "srl", "srls", "spa", "sapa", "sas", "snc", "scarl", "scrl",  # Italy
    "inc", "incorporated", "ltd", "limited", "llc", "llp", "plc", "lp",  # US, UK
    "gmbh", "ag", "kg", "ug", "ohg", "eg", "se",  # DACH, Europe
    "sa", "sarl", "sasu", "eurl", "sl", "slu", "sau", "lda",  # France, Spain, Portugal
    "bv", "nv", "vof", "oy", "oyj", "ab", "as", "asa", "aps", "pty", "kk",
})
_ID = re.compile(r"[0-9a-z]{4,32}")


def normalise(name: str) -> str:
    """The key two spellings of one company share: case-folded, accents, punctuation
    and trailing legal forms left out ('ACME S.r.l.', 'Acme srl' and 'acme' give 'acme')."""
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace(".", "")  # S.p.A. -> spa, before other punctuation splits words
    tokens = re.sub(r"[\W_]+", " ", text).split()
    while len(tokens) > 1:
        if tokens[-1] in LEGAL_SUFFIXES:
            tokens.pop()
            continue
        # a legal form spelt in single letters: "Acme s. r. l."
        for size in (4, 3, 2):
            tail = tokens[-size:]
            if len(tokens) > size and all(len(t) == 1 for t in tail) \
                    and "".join(tail) in LEGAL_SUFFIXES:
                del tokens[-size:]
                break
        else:
            break
    return " ".join(tokens)


# ---------------------------------------------------------------- the directory


@dataclass(frozen=True)
class Entry:
    """An account as lookups and reports need it (plain data, no pydantic)."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    vat: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Entry:
        return cls(str(data["id"]), str(data["name"]), tuple(data.get("aliases") or ()),
                   data.get("vat"), data)

    def words(self) -> str:
        return f"{self.id} ({self.name})"


class Directory:
    """Every account of a repo, by id and by normalised name or alias."""

    def __init__(self, entries: Iterable[Entry]):
        self.by_id: Mapping[str, Entry] = {}
        self.by_key: Mapping[str, list[Entry]] = {}
        self.heads_kept: Mapping[str, list[Any]] | None = None  # of_keys's heads
        by_id: dict[str, Entry] = {}
        by_key: dict[str, list[Entry]] = {}
        for e in sorted(entries, key=lambda e: e.id):
            by_id[e.id] = e
            for key in {normalise(n) for n in (e.name, *e.aliases)}:
                by_key.setdefault(key, []).append(e)
        self.by_id, self.by_key = by_id, by_key

    @classmethod
    def of(cls, items: Iterable[Mapping[str, Any]]) -> Directory:
        return cls(Entry.of(d) for d in items)

    def keys(self) -> dict[str, list[str]]:
        """Normalised name or alias -> account ids: what ``of_keys`` takes back, so that
        a cache keeps the names normalised (4,000 names cost more than reading them)."""
        return {k: [e.id for e in v] for k, v in self.by_key.items()}

    def names(self) -> dict[str, str]:
        """Account id -> name; from the kept heads when there are, without building an
        entry for each account (2,000 entries: 3 ms of a report)."""
        if self.heads_kept is not None:
            return {i: h[0] for i, h in self.heads_kept.items()}
        return {i: e.name for i, e in self.by_id.items()}

    def heads(self) -> dict[str, list[Any]]:
        """Account id -> [name, aliases, VAT]: the rest of ``of_keys``."""
        return {i: [e.name, list(e.aliases), e.vat] for i, e in self.by_id.items()}

    @classmethod
    def of_keys(cls, heads: Mapping[str, list[Any]], keys: Mapping[str, list[str]],
                data: Callable[[], Mapping[str, Mapping[str, Any]]]) -> Directory:
        """The directory ``of(items)`` gives, from the ``heads()`` and ``keys()`` it gave:
        an entry is built when it is read, and its data (``data()``: account id -> the
        account, read once for all) when that is read. Resolving one name among 2,000
        accounts builds one entry and reads no account's data."""
        found = cls(())
        found.heads_kept = heads
        by_id = Built(dict(sorted(heads.items())),
                      lambda i, h: Entry(i, h[0], tuple(h[1]), h[2], Later(i, data)))
        found.by_id = by_id
        found.by_key = Built(keys, lambda _, ids: [by_id[i] for i in ids])
        return found

    def __len__(self) -> int:
        return len(self.by_id)

    def __contains__(self, account_id: object) -> bool:
        return account_id in self.by_id

    def name_of(self, value: str) -> str:
        """The name a deal's customer (or a partner's account) shows: the account's when
        it is an account id, else the text as written (a repo not upgraded yet)."""
        found = self.by_id.get(value)
        return found.name if found is not None else value

    def named(self, text: str) -> Entry | None:
        """The account a customer text of a file or deal stands for: the account of that
        id, else the one of that name or alias (normalised; never an id prefix); None
        when an import would create one."""
        if text in self.by_id:
            return self.by_id[text]
        found = self.by_key.get(normalise(text))
        return found[0] if found else None

    def find(self, query: str) -> list[Entry]:
        """The accounts ``query`` names: an id, a name or alias (normalised), else a
        unique id prefix. Several when ambiguous, none when nothing matches."""
        text = query.strip()
        if not text:
            return []
        exact = self.by_id.get(text.casefold())
        if exact is not None:
            return [exact]
        named = self.by_key.get(normalise(text), [])
        if named:
            return list(named)
        key = text.casefold()
        if _ID.fullmatch(key):
            return [e for i, e in self.by_id.items() if i.startswith(key)]
        return []

    def resolve(self, query: str, what: str = "account") -> Entry:
        """The one account ``query`` names; ``NotFound`` (exit 1) when none or several,
        listing the candidates."""
        found = self.find(query)
        if len(found) == 1:
            return found[0]
        if not query.strip():
            raise UsageError(f"the {what} is empty")
        if found:
            raise NotFound(ambiguous(query, found))
        similar = self.near(query)
        hint = f" (did you mean {_listed(similar)}?)" if similar else ""
        raise NotFound(f"no {what} '{query}'{hint}; list them with: opp account list")

    def near(self, query: str) -> list[Entry]:
        """Accounts whose name starts with ``query`` or nearly matches it (normalised):
        the ones a typo would duplicate."""
        key = normalise(query)
        if not key:
            return []
        keys = list(self.by_key)
        digits = re.sub(r"\D", "", key)
        # nearly the same letters, the same numbers: 'Acme Corp' and 'Acme Crop' are,
        # 'Customer 12' and 'Customer 13' are not
        close = {k for k in difflib.get_close_matches(key, keys, n=5, cutoff=0.85)
                 if re.sub(r"\D", "", k) == digits}
        close |= {k for k in keys if k.startswith(key + " ")}  # whole words: 'Acme' of 'Acme Corp'
        out = {e.id: e for k in sorted(close) for e in self.by_key[k]}
        return sorted(out.values(), key=lambda e: e.name.casefold())

    def with_vat(self, vat: str) -> Entry | None:
        return next((e for e in self.by_id.values() if e.vat == vat), None)


def ambiguous(query: str, found: list[Entry]) -> str:
    return (f"'{query}' matches {len(found)} accounts: {_listed(found)}; use the id, or "
            "settle duplicates with: opp account merge FROM INTO")


def _listed(entries: list[Entry], most: int = 10) -> str:
    shown = ", ".join(e.words() for e in entries[:most])
    return shown + (f" and {len(entries) - most} more" if len(entries) > most else "")


@dataclass(frozen=True)
class Pick:
    """What ``--customer X`` names: an existing account, or a new one to create."""

    entry: Entry | None  # None: create an account named ``name``
    name: str


def pick(directory: Directory, query: str, *, create: bool | None = None,
         what: str = "customer") -> Pick:
    """Resolve ``query`` for a deal (``opp new --customer X``): an account it names, or
    a new account when nothing matches. ``create=None`` (the default) refuses when
    names start with X or nearly match it, so that a typo never makes a duplicate;
    ``True`` (``--create``) creates anyway; ``False`` (``--no-create``) never creates."""
    text = query.strip()
    found = directory.find(text)
    if len(found) == 1:
        return Pick(found[0], found[0].name)
    if found:
        raise NotFound(ambiguous(text, found))
    if create is False:
        similar = directory.near(text)
        hint = f" (did you mean {_listed(similar)}?)" if similar else ""
        raise NotFound(f"no account '{text}'{hint}; create it with: opp account add "
                       f"\"{text}\", or leave out --no-create")
    if create is None:
        similar = directory.near(text)
        if similar:
            raise RuleError(f"no account '{text}', but {_listed(similar)} "
                            f"{'is' if len(similar) == 1 else 'are'} close; name one of "
                            "them, or pass --create to make a new account")
    return Pick(None, text)


# ---------------------------------------------------------------- VAT numbers


def refuse_duplicate_vat(directory: Directory, vat: str | None, account_id: str) -> None:
    """Two accounts never share a VAT number: refuses, naming the other."""
    if not vat:
        return
    other = directory.with_vat(vat)
    if other is not None and other.id != account_id:
        raise RuleError(f"VAT number {vat} is already account {other.words()}; two accounts "
                        "never share one (use that account, or merge the two with: opp "
                        "account merge FROM INTO)")


# ---------------------------------------------------------------- changes


def new_account(account_id: str, name: str, directory: Directory, *, today=None,
                aliases: Iterable[str] = (), **fields: Any):
    """A new account (``model.Account``), refused when its name, an alias or its VAT
    number is another account's."""
    from .model import Account

    fields = {k: v for k, v in fields.items() if v is not None}
    if fields.get("vat"):
        fields["vat"] = check_vat(fields["vat"])
    if fields.get("country"):
        fields["country"] = country_code(fields["country"])
    if fields.get("website"):
        fields["website"] = check_website(fields["website"])
    account = Account(id=account_id, name=name, aliases=[], created=today, **fields)
    refuse_taken_name(directory, name, account_id)
    for alias in aliases:
        account = add_alias(account, alias, directory)
    refuse_duplicate_vat(directory, account.vat, account_id)
    return account


def refuse_taken_name(directory: Directory, name: str, account_id: str) -> None:
    holders = [e for e in directory.by_key.get(normalise(name), []) if e.id != account_id]
    if holders:
        raise RuleError(f"'{name}' is already account {holders[0].words()}; use it, or "
                        "settle duplicates with: opp account merge FROM INTO")


EDITABLE = ("name", "vat", "tax_code", "address", "city", "country", "industry",
            "website", "owner", "ref", "notes")


def edit_account(account, changes: Mapping[str, Any], directory: Directory):
    """The account with these fields changed (None leaves one alone, '' clears it). A
    new name keeps the old one as an alias, so that old spellings still resolve."""
    update: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in EDITABLE:
            raise UsageError(f"an account has no field '{key}'")
        if value is None:
            continue
        if value == "":
            if key == "name":
                raise UsageError("an account's name cannot be empty")
            update[key] = None
        elif key == "vat":
            update[key] = check_vat(value)
            refuse_duplicate_vat(directory, update[key], account.id)
        elif key == "country":
            update[key] = country_code(value)
        elif key == "website":
            update[key] = check_website(value)
        else:
            update[key] = value
    after = type(account).model_validate({**account.model_dump(), **update})
    if after.name != account.name:
        refuse_taken_name(directory, after.name, account.id)
        keys = {normalise(a) for a in after.aliases}
        aliases = [a for a in after.aliases if normalise(a) != normalise(after.name)]
        if normalise(account.name) not in keys | {normalise(after.name)}:
            aliases.append(account.name)
        after = after.model_copy(update={"aliases": aliases})
    return after


def add_alias(account, alias: str, directory: Directory):
    """The account with one more spelling; refused when it names another account."""
    alias = alias.strip()
    key = normalise(alias)
    if not key:
        raise UsageError("the alias is empty")
    holders = [e for e in directory.by_key.get(key, []) if e.id != account.id]
    if holders:
        raise RuleError(f"'{alias}' already names account {holders[0].words()}; merge the "
                        f"two with: opp account merge {holders[0].id} {account.id}")
    if key in {normalise(n) for n in (account.name, *account.aliases)}:
        return account
    return account.model_copy(update={"aliases": [*account.aliases, alias]})


def merged_account(source, target):
    """INTO after ``opp account merge FROM INTO``: FROM's name and aliases become its
    aliases, its people join (by name), its empty fields take FROM's."""
    aliases = list(target.aliases)
    seen = {normalise(n) for n in (target.name, *aliases)}
    for spelling in (source.name, *source.aliases):
        if normalise(spelling) not in seen:
            seen.add(normalise(spelling))
            aliases.append(spelling)
    people = list(target.people)
    names = {p.name.casefold() for p in people}
    taken = {p.id for p in people}
    for person in source.people:
        if person.name.casefold() in names:
            continue
        if person.id in taken:
            person = person.model_copy(update={"id": new_item_id(taken)})
        taken.add(person.id)
        people.append(person)
    filled = {k: getattr(source, k) for k in EDITABLE
              if getattr(target, k) is None and getattr(source, k) is not None and k != "ref"}
    return target.model_copy(update={"aliases": aliases, "people": people, **filled})


def person_ids(source, target) -> dict[str, str]:
    """How FROM's people ids map onto INTO's after ``merged_account``."""
    out = {}
    for person in source.people:
        same = next((p for p in target.people if p.name.casefold() == person.name.casefold()),
                    None)
        if same is not None:
            out[person.id] = same.id
    return out


def find_person(account, query: str):
    """The person of an account named by id, id prefix or name (case-insensitive)."""
    text = query.strip()
    key = text.casefold()
    for person in account.people:
        if person.id == key:
            return person
    named = [p for p in account.people if p.name.casefold() == key]
    if not named:
        named = [p for p in account.people if p.id.startswith(key)] if key else []
    if len(named) == 1:
        return named[0]
    if named:
        raise NotFound(f"'{query}' matches {len(named)} people at {account.name}: "
                       + ", ".join(f"{p.id} ({p.name})" for p in named) + "; use the id")
    raise NotFound(f"{account.name} has no person '{query}'; list them with: "
                   f"opp account show {account.id}")


def add_person(account, person_id: str, name: str, **fields: Any):
    """The account with one more person; refused when one of that name is there."""
    from .model import Person

    if any(p.name.casefold() == name.strip().casefold() for p in account.people):
        raise RuleError(f"{account.name} already has a person named '{name}'; change them "
                        "with: opp person edit")
    if fields.get("email"):
        fields["email"] = check_email(fields["email"])
    person = Person(id=person_id, name=name, **{k: v for k, v in fields.items()
                                               if v is not None})
    return account.model_copy(update={"people": [*account.people, person]})


def contact_person(account, name: str, person_id: str, **fields: Any):
    """The person a deal's contact ``name`` is at the customer's account: one of its
    people by name (case-insensitive) or by id, else a new person added to it (with
    ``fields``: email, phone). Returns (the account, maybe with the new person, the
    person, whether it was added)."""
    key = name.strip().casefold()
    found = next((p for p in account.people if p.name.casefold() == key), None) or \
        next((p for p in account.people if p.id == key), None)
    if found is not None:
        return account, found, False
    after = add_person(account, person_id, name.strip(), **fields)
    return after, after.people[-1], True


def edit_person(account, person_id: str, changes: Mapping[str, Any]):
    from .model import Person

    people = []
    for p in account.people:
        if p.id == person_id:
            data = p.model_dump()
            for key, value in changes.items():
                if value is not None:
                    data[key] = None if value == "" and key != "name" else value
            if changes.get("email"):
                data["email"] = check_email(changes["email"])
            if data["name"] != p.name and any(
                    o.name.casefold() == str(data["name"]).casefold() and o.id != p.id
                    for o in account.people):
                raise RuleError(f"{account.name} already has a person named '{data['name']}'")
            p = Person.model_validate(data)
        people.append(p)
    return account.model_copy(update={"people": people})


def remove_person(account, person_id: str):
    return account.model_copy(update={"people": [p for p in account.people
                                                 if p.id != person_id]})


# ---------------------------------------------------------------- what deals show


def with_accounts(detail: Mapping[str, Any], directory: Directory) -> dict[str, Any]:
    """``opp show --format json`` naming accounts: ``customer`` stays the name (scripts
    keep working) and ``customer_id`` is added; partners and competitors add
    ``account_id``, contacts ``person_id`` (null where the text names no account)."""
    out: dict[str, Any] = {}
    for key, value in detail.items():
        if key == "customer":
            entry = directory.by_id.get(value)
            out["customer"] = entry.name if entry is not None else value
            out["customer_id"] = entry.id if entry is not None else None
        elif key in ("partners", "competitors", "contacts"):
            out[key] = relation_rows(key, value, directory)
        else:
            out[key] = value
    return out


def relation_rows(panel: str, rows: Iterable[Mapping[str, Any]], directory: Directory
                  ) -> list[dict[str, Any]]:
    """Contacts, partners or competitors as ``show`` and ``list`` JSON give them: a
    partner's or competitor's ``account`` is the account's name, with ``account_id``
    (null where the text names no account); a contact adds ``person_id`` only where it
    names a person (scripts compare contacts)."""
    if panel == "contacts":
        return [{**{k: v for k, v in c.items() if k != "person"},
                 **({"person_id": c["person"]} if c.get("person") else {})} for c in rows]
    return [_with_account(item, directory) for item in rows]


def _with_account(item: Mapping[str, Any], directory: Directory) -> dict[str, Any]:
    entry = directory.by_id.get(item.get("account", ""))
    out = dict(item)
    if entry is not None:
        out["account"] = entry.name
    out["account_id"] = entry.id if entry is not None else None
    return out


def references(opp, account_id: str) -> list[str]:
    """Where a deal names an account: 'customer', 'partner', 'competitor'."""
    out = ["customer"] if opp.customer == account_id else []
    out += ["partner"] * any(p.account == account_id for p in opp.partners)
    out += ["competitor"] * any(c.account == account_id for c in opp.competitors)
    return out


# the form of an account id opp makes (ids.py): text that is no id is a customer not
# yet made an account (opp init --upgrade does it), never a dangling reference
ACCOUNT_ID = re.compile(r"[0-9a-hjkmnp-tv-z]{8}")


@dataclass(frozen=True)
class Dangling:
    """A reference of a deal that leads nowhere: ``field`` (customer, partners,
    competitors, contacts), the id it names (``value``), and why, in words."""

    field: str
    value: str
    message: str


def dangling(opp, accounts: Mapping[str, Any]) -> list[Dangling]:
    """A deal naming an account id (customer, partner, competitor) that is not among
    ``accounts`` (id -> account, at least every account the deal names), or a contact
    naming a person its customer's account does not have."""
    out = []

    def missing(field: str, value: str) -> None:
        if value not in accounts and ACCOUNT_ID.fullmatch(value):
            out.append(Dangling(field, value, f"{field}: account {value} does not exist (no "
                                f"accounts/{value}.yaml); point it at an account (opp "
                                "account list) or restore the file from git"))

    missing("customer", opp.customer)
    for p in opp.partners:
        missing("partners", p.account)
    for c in opp.competitors:
        missing("competitors", c.account)
    account = accounts.get(opp.customer)
    people = {p.id for p in account.people} if account is not None else set()
    for c in opp.contacts:
        if c.person and account is not None and c.person not in people:
            out.append(Dangling("contacts", c.person,
                                f"contacts: person {c.person} ({c.name}) is not one of "
                                f"{account.name}'s people (opp account show {account.id})"))
    return out


def referenced(opp) -> list[str]:
    """Every account id (or customer text) a deal names: customer, partners, competitors."""
    return [opp.customer, *(p.account for p in opp.partners),
            *(c.account for c in opp.competitors)]


def moved(opp, source: str, target: str, people: Mapping[str, str]):
    """The deal with every reference to account ``source`` pointing at ``target``
    (customer, partners, competitors; contacts' people by ``people``: old id -> new)."""
    update: dict[str, Any] = {}
    if opp.customer == source:
        update["customer"] = target
        if people:
            update["contacts"] = [c.model_copy(update={"person": people.get(c.person,
                                                                              c.person)})
                                  for c in opp.contacts]
    update["partners"] = _moved(opp.partners, source, target)
    update["competitors"] = _moved(opp.competitors, source, target)
    return opp.model_copy(update=update)


def _moved(items: list, source: str, target: str) -> list:
    """Partners or competitors naming ``target`` where they named ``source``: a deal
    that named both keeps one entry, the first, its empty fields filled from the other."""
    out: list = []
    for item in items:
        if item.account == source:
            item = item.model_copy(update={"account": target})
        kept = next((i for i, o in enumerate(out) if o.account == target == item.account),
                    None)
        if kept is None:
            out.append(item)
        else:
            fill = {k: v for k, v in item.model_dump(exclude={"id"}).items()
                    if getattr(out[kept], k) is None}
            out[kept] = out[kept].model_copy(update=fill)
    return out


class CustomerQuery:
    """``--customer X`` of lists and reports: the deals of the accounts X names (by id,
    id prefix, name or alias), and those whose customer's name holds X as text (the
    matching of a repo whose customers are still text)."""

    def __init__(self, text: str, directory: Directory):
        self.text = text.casefold()
        found = directory.find(text)
        self.ids = {e.id for e in found}
        self.keys = {normalise(n) for e in found for n in (e.name, *e.aliases)}
        self.keys.add(normalise(text))

    def __call__(self, name: str, account_id: str | None) -> bool:
        if account_id is not None and account_id in self.ids:
            return True
        return self.text in name.casefold() or (account_id is None
                                                and normalise(name) in self.keys)
