"""Accounts and people (#20): the customer is a record. ``opp account add/list/show/
edit/alias/merge/remove/import`` and ``opp person add/edit/remove``."""

from __future__ import annotations

import click

from .app import State, cli, note, pass_state
from .output import emit_csv, emit_json, format_option, table
from .params import DELIMITER_OPTION, ENCODING_OPTION, LINE

ACCOUNT_HELP = ("ACCOUNT is an id, an id prefix, a name or an alias (case, punctuation and "
                "legal forms such as S.r.l., SpA, Inc, GmbH are ignored).")


def _fields(f):
    for name, words in reversed((
            ("vat", "VAT number with its country prefix, e.g. IT12345670157 (checked)."),
            ("tax-code", "Tax code (codice fiscale)."),
            ("country", "Country, ISO 3166 alpha-2 (IT, DE, US…)."),
            ("city", "City."), ("address", "Street address."), ("industry", "Industry."),
            ("website", "Web site."), ("owner", "Who looks after the account."),
            ("notes", "Free notes."))):
        f = click.option(f"--{name}", help=words)(f)
    return f


@cli.group()
def account() -> None:
    """Accounts: customers, partners and competitors, one file each (accounts/<ID>.yaml).

    A deal's customer is an account; `opp new --customer X` finds it by id, name or
    alias, or creates it. Duplicates are settled with `opp account merge`.

    \b
    Example:  opp account add "ACME S.r.l." --vat IT12345670157 --country IT
              opp account show acme --format json
    """


@account.command("add")
@click.argument("name", type=LINE)
@_fields
@click.option("--alias", "aliases", multiple=True, type=LINE,
              help="Another spelling of the name (repeat for more).")
@click.option("--ref", type=LINE, help="An external id (opp account import upserts by it).")
@pass_state
def account_add(state: State, name, aliases, ref, **fields) -> None:
    """Add an account; prints its id alone on stdout.

    \b
    Example:  opp account add "ACME S.r.l." --vat IT12345670157 --alias Acme
    """
    from ..env import today
    from ..store.accounts import add

    made = add(state.repo, name, today=today(), aliases=aliases, ref=ref,
               **{k: v for k, v in fields.items() if v})
    note(f"account {made.id}: new account {made.name}")
    click.echo(made.id)


LIST_COLUMNS = ["id", "name", "aliases", "vat", "country", "city", "industry", "owner",
                "people", "deals", "open_deals"]


@account.command("list")
@format_option("table", "json", "csv")
@pass_state
def account_list(state: State, fmt: str) -> None:
    """List the accounts, with their numbers of people and deals.

    \b
    Example:  opp account list --format csv
    """
    from ..read.index.accounts import plain_accounts
    from ..read.source import of
    from ..reports.accounts import account_rows

    rows = account_rows(plain_accounts(state.repo), of(state.repo).records())
    if fmt == "json":
        emit_json(rows)
    elif fmt == "csv":
        emit_csv([{**r, "aliases": "; ".join(r["aliases"])} for r in rows], LIST_COLUMNS)
    elif not rows:
        note("no accounts yet; add one with: opp account add NAME")
    else:
        click.echo(table([[r["id"], r["name"], ", ".join(r["aliases"]), r["vat"],
                           r["country"], r["people"], r["deals"], r["open_deals"]]
                          for r in rows],
                         ["id", "name", "aliases", "vat", "country", "people", "deals",
                          "open"]))


def _render(card: dict) -> str:
    from decimal import Decimal

    from ..domain.money import money_human

    lines = [f"{card['id']}  {card['name']}", ""]
    fields = [(k.replace("_", " "), card[k]) for k in
              ("vat", "tax_code", "address", "city", "country", "industry", "website",
               "owner", "ref") if card.get(k)]
    if card["aliases"]:
        fields.insert(0, ("aliases", ", ".join(card["aliases"])))
    if fields:
        width = max(len(k) for k, _ in fields)
        lines += [f"  {k:<{width}}  {v}" for k, v in fields]
    if card.get("notes"):
        lines += ["", *(f"  {t}" for t in card["notes"].splitlines())]
    for t in card["totals"]:
        cur = t["currency"]
        lines.append(f"  {cur}: {t['open_count']} open "
                     f"{money_human(Decimal(t['open_amount']), cur)}, {t['won_count']} won "
                     f"{money_human(Decimal(t['won_amount']), cur)}, {t['lost_count']} lost")
    if card["people"]:
        lines += ["", f"People ({len(card['people'])})"]
        lines += ["  " + row for row in table(
            [[p["id"], p["name"], p.get("title"), p.get("email"), p.get("phone")]
             for p in card["people"]], ["id", "name", "title", "email", "phone"]).splitlines()]
    if card["deals"]:
        lines += ["", f"Deals ({len(card['deals'])})"]
        lines += ["  " + row for row in table(
            [[d["id"], d["name"], d["stage"], d["status"],
              money_human(Decimal(d["amount"]), d["currency"]), d["close_date"]]
             for d in card["deals"]], ["id", "name", "stage", "status", "amount", "close"],
            align=["left", "left", "left", "left", "right", "left"]).splitlines()]
    return "\n".join(lines)


@account.command("show", help=f"""Show one account: its fields, people, deals and totals.

    {ACCOUNT_HELP} --timeline tells the story of the account and all its deals
    instead, oldest first.

    \b
    Example:  opp account show acme --format json
              opp account show acme --timeline""")
@click.argument("ref", metavar="ACCOUNT")
@click.option("--timeline", is_flag=True, help="The story of all its deals, oldest first.")
@format_option("text", "json")
@pass_state
def account_show(state: State, ref: str, timeline: bool, fmt: str) -> None:
    if timeline:
        from ..read.accounts import account_timeline

        entries = account_timeline(state.repo, ref, warn=note)
        if fmt == "json":
            emit_json(entries)
        for e in entries if fmt != "json" else []:
            deal = e["opportunity"]
            where = f"{deal['id']} {deal['name']}" if deal else "account"
            click.echo(f"{str(e['at'])[:16].replace('T', ' ')}  {e['author'] or '-'}  "
                       f"[{where}] {e['summary']}")
        return
    from ..reports.accounts import card

    data = card(state.repo, ref)
    if fmt == "json":
        emit_json(data)
    else:
        click.echo(_render(data))


@account.command("edit", help=f"""Change an account's fields; 'none' clears one.

    {ACCOUNT_HELP} A new name keeps the old one as an alias.

    \b
    Example:  opp account edit acme --name "Acme Italia S.p.A." --city Milano""")
@click.argument("ref", metavar="ACCOUNT")
@click.option("--name", type=LINE, help="New name (the old one becomes an alias).")
@_fields
@click.option("--ref", "ext_ref", help="External id ('none' clears it).")
@pass_state
def account_edit(state: State, ref: str, name, ext_ref, **fields) -> None:
    from .panels import item_fields

    given = item_fields(name=name, ref=ext_ref, **fields)
    changes = {k.replace("-", "_"): ("" if v is None else v) for k, v in given.items()}
    _account_change(state, ref, "account-edit", "edit_account", changes)


@account.command("alias")
@click.argument("ref", metavar="ACCOUNT")
@click.argument("alias", type=LINE)
@pass_state
def account_alias(state: State, ref: str, alias: str) -> None:
    """Add another spelling of an account's name (ACCOUNT as for show).

    \b
    Example:  opp account alias acme "A.C.M.E."
    """
    _account_change(state, ref, "account-alias", "add_alias", alias)


def _account_change(state: State, ref: str, kind: str, how: str, arg) -> None:
    from ..store.accounts import change_account

    account_id, action, _ = change_account(state.repo, ref, kind, how, arg)
    note(f"account {account_id}: {action or 'nothing to change'}")


@account.command("merge")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="INTO")
@pass_state
def account_merge(state: State, source: str, target: str) -> None:
    """Merge account FROM into INTO in one commit: every deal naming FROM (customer,
    partner, competitor) names INTO, FROM's name becomes an alias, its people join.

    \b
    Example:  opp account merge "Acme srl" "ACME S.r.l."
    """
    from ..store.accounts import merge

    after, gone, deals = merge(state.repo, source, target)
    note(f"account {after.id}: merged {gone.id} {gone.name} into {after.name}, "
         f"{len(deals)} deal(s) moved")


@account.command("remove")
@click.argument("ref", metavar="ACCOUNT")
@pass_state
def account_remove(state: State, ref: str) -> None:
    """Remove an account; refused while a deal names it (merge it instead).

    \b
    Example:  opp account remove 7k2m
    """
    from ..store.accounts import remove

    gone = remove(state.repo, ref)
    note(f"account {gone.id}: removed {gone.name}")


@account.command("import")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--sheet", type=LINE, help="The sheet of an xlsx file (default: the first).")
@ENCODING_OPTION
@DELIMITER_OPTION
@click.option("--dry-run", is_flag=True, help="Check and report; change nothing.")
@pass_state
def account_import(state: State, path: str, sheet, encoding, delimiter, dry_run: bool
                   ) -> None:
    """Import accounts from a CSV or xlsx file, all or nothing, in one commit.

    Columns: name, vat, tax_code, country, city, address, industry, website,
    owner, notes, aliases (separated by ';') and ref, or the usual headers
    (Ragione sociale, Partita IVA, Città, Paese, Indirizzo...): a row whose ref
    (else whose name) is an account's updates it. A column that names no field
    is left out, and stderr says so. In an xlsx file, cells typed as numbers (a
    VAT number, a ref) are read as their digits.

    \b
    Example:  opp account import accounts.csv
              opp account import clienti.csv --encoding cp1252
              opp account import accounts.xlsx --sheet Clienti
    """
    from ..transfer.accounts import FIELDS, import_accounts

    done = import_accounts(state.repo, path, dry_run=dry_run, sheet=sheet, encoding=encoding,
                           delimiter=delimiter)
    if done.ignored:
        note(f"note: ignored column(s): {', '.join(done.ignored)} (the columns read: "
             f"{', '.join(FIELDS)})")
    verb = "would import" if dry_run else "imported"
    note(f"{verb} {done.added} new account(s), {done.updated} updated")


# ---------------------------------------------------------------- people


@cli.group()
def person() -> None:
    """People at an account: a deal's contacts name them.

    \b
    Example:  opp person add acme "Jane Doe" --title CFO --email jane@acme.example
    """


@person.command("add")
@click.argument("ref", metavar="ACCOUNT")
@click.argument("name", type=LINE)
@click.option("--title", type=LINE, help="Job title.")
@click.option("--email", type=LINE, help="E-mail address.")
@click.option("--phone", type=LINE, help="Phone number.")
@pass_state
def person_add(state: State, ref: str, name: str, title, email, phone) -> None:
    """Add a person to an account; prints their id alone on stdout.

    \b
    Example:  opp person add acme "Jane Doe" --title CFO --email jane@acme.example
    """
    from ..store.accounts import change_account

    account_id, action, person_id = change_account(
        state.repo, ref, "person-add", "add_person",
        {"name": name, "title": title, "email": email, "phone": phone})
    note(f"account {account_id}: {action}")
    click.echo(person_id)


@person.command("edit")
@click.argument("ref", metavar="ACCOUNT")
@click.argument("who", metavar="PERSON")
@click.option("--name", type=LINE, help="New name.")
@click.option("--title", help="New title ('none' clears it).")
@click.option("--email", help="New e-mail ('none' clears it).")
@click.option("--phone", help="New phone ('none' clears it).")
@pass_state
def person_edit(state: State, ref: str, who: str, name, title, email, phone) -> None:
    """Change a person's name, title, e-mail or phone (PERSON: id or name).

    \b
    Example:  opp person edit acme "Jane Doe" --phone "+39 02 1234"
    """
    from .panels import item_fields

    given = item_fields(name=name, title=title, email=email, phone=phone)
    changes = {k: ("" if v is None else v) for k, v in given.items()}
    _account_change(state, ref, "person-edit", "edit_person", (who, changes))


@person.command("remove")
@click.argument("ref", metavar="ACCOUNT")
@click.argument("who", metavar="PERSON")
@pass_state
def person_remove(state: State, ref: str, who: str) -> None:
    """Remove a person from an account (PERSON: id or name).

    \b
    Example:  opp person remove acme "Jane Doe"
    """
    _account_change(state, ref, "person-remove", "remove_person", who)
