"""Commands on opportunities: new, show, list, set, stage, close, reopen (R1, R4-R8, R16-R17a)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from ..store.repo import Repo
from .app import State, cli, note, pass_state
from .output import emit_csv, emit_json, emit_json_list, format_option, table
from .params import CURRENCY, DATE, LINE, MONEY, me_or_name, parse_date

if TYPE_CHECKING:
    from datetime import date

    from ..domain.model import Opportunity
    from ..store.transaction import Transaction


@contextmanager
def changing(state: State, ref: str, kind: str) -> Iterator[Transaction]:
    """One change to opportunity ``ref`` as one commit (``repo.change``): the body sets
    ``tx.opportunity`` and ``tx.action``, the action in words (commit subject and the
    note printed on stderr once it is committed)."""
    with state.repo.change(ref, kind) as tx:
        yield tx
    if tx.writes:
        note(f"{tx.opportunity.id}: {tx.action}")
    else:
        note(f"{tx.opportunity.id}: nothing to change")


def apply_change(state: State, ref: str, kind: str, change: Callable, describe: Callable):
    """Run ``change(opp, repo) -> opp`` as one commit; ``describe(before, after)`` is the
    action in words. Returns the opportunity after the change."""
    with changing(state, ref, kind) as tx:
        before = tx.opportunity
        tx.opportunity = change(before, state.repo)
        tx.action = describe(before, tx.opportunity)
    return tx.opportunity


def amount_words(opp) -> str:
    from ..domain.money import money_human

    source = {"manual": "typed" if opp.amount else "no products",
              "products": "total of the products",
              "quote": "total of the accepted quote"}[opp.amount_source]
    return f"amount {money_human(opp.amount, opp.currency)} ({source})"


# ---------------------------------------------------------------- new


@cli.command()
@click.argument("name", type=LINE)
@click.option("--customer", required=True, type=LINE,
              help="The account the deal is with: its id, name or alias; a new name creates "
                   "the account.")
@click.option("--create/--no-create", default=None,
              help="--create makes a new account even when names are close to this one; "
                   "--no-create refuses when no account matches.")
@click.option("--amount", type=MONEY, help="The value of the deal, while it has no products.")
@click.option("--objective", type=MONEY, help="What you think the deal may be worth.")
@click.option("--stage", help="Stage id or label (default: opp.yaml's default_stage).")
@click.option("--close-date", type=DATE,
              help="Expected close date: YYYY-MM-DD, or e.g. +3m, tomorrow, '2 weeks ago'.")
@click.option("--owner", type=LINE, help="Who owns the deal (default: you).")
@click.option("--currency", type=CURRENCY, help="Currency code (default: opp.yaml's).")
@pass_state
def new(state: State, name, customer, create, amount, objective, stage, close_date, owner,
        currency) -> None:
    """Create an opportunity; prints its id alone on stdout.

    --customer names an account (accounts/<ID>.yaml) by id, id prefix, name or
    alias, ignoring case, punctuation and legal forms (S.r.l., SpA, Inc, GmbH…).
    When none matches, the account is created in the same commit, and stderr says
    so; when names are close to it (a typo?), opp refuses and lists them.

    \b
    Example:  ID=$(opp new "Acme renewal" --customer "Acme Corp" --objective 5000 \\
                  --close-date 2026-12-31)
    """
    from ..store.accounts import new_deal

    opp, account = new_deal(state.repo, name=name, customer=customer, create=create,
                            amount=amount, objective=objective, stage=stage,
                            close_date=close_date, owner=owner, currency=currency)
    if account is not None:
        note(f"created account {account.id} {account.name}")
    click.echo(opp.id)


# ---------------------------------------------------------------- show and list


def _render(d: dict, settings) -> str:
    """The opportunity as a card for people, from its ``opp show --format json`` data
    (``views.detail``), so that the card can come from the index without pydantic."""
    from datetime import datetime

    lines = [f"{d['id']}  {d['name']}", "", *_field_lines(d), *_panel_lines(d, settings)]
    if d["notes"]:
        lines.extend(["", f"Notes ({len(d['notes'])})"])
        for n in d["notes"]:
            at = n["date"]
            at = datetime.fromisoformat(at[:-1] + "+00:00" if at.endswith("Z") else at)
            lines.append(f"  {at:%Y-%m-%d %H:%M} {n['author']} [{n['id']}]")
            lines.extend(f"    {t}" for t in n["text"].splitlines())
    return "\n".join(lines)


def _money(text: str, currency: str | None = None) -> str:
    from decimal import Decimal

    from ..domain.money import money_human

    return money_human(Decimal(text), currency)


def _number(text: str) -> str:
    """A quantity or a discount, written the locale's way (1,5)."""
    from decimal import Decimal

    from ..domain.money import number_human

    return number_human(Decimal(text))


def _field_lines(d: dict) -> list[str]:
    """The card's fields, one per line, their names aligned."""
    status, label, probability = d["status"], d["stage_label"], d["probability"]
    cur = d["currency"]
    source = {"manual": "typed", "products": "from products",
              "quote": "from the accepted quote"}[d["amount_source"]]
    fields = [
        ("customer", d["customer"]),
        ("stage", f"{label} ({probability} %, {status})"),
        ("amount", f"{_money(d['amount'], cur)}  ({source})"),
        ("objective", _money(d["objective"], cur) if d["objective"] is not None else "-"),
        ("close date", f"{d['close_date'] or '-'}" + ("" if status == "open" else " (closed)")),
        ("owner", d["owner"]),
    ]
    if d["lost_reason"]:
        fields.append(("lost reason", d["lost_reason"]))
    if d["ref"]:
        fields.append(("ref", d["ref"]))
    fields.append(("created", d["created"]))
    width = max(len(k) for k, _ in fields)
    return [f"  {k:<{width}}  {v}" for k, v in fields]


def _panel_lines(d: dict, settings) -> list[str]:
    """The panels with items, a table each (products and quotes where their modules are
    on)."""
    lines: list[str] = []

    def section(title: str, rows, headers, align=None) -> None:
        if rows:
            lines.extend(["", f"{title} ({len(rows)})"])
            lines.extend("  " + row for row in table(rows, headers, align=align).splitlines())

    if settings.modules.catalog:
        section("Products", [[p["id"], p["sku"], p["name"], _number(p["quantity"]),
                              _money(p["unit_price"]), f"{_number(p['discount'])} %",
                              _money(p["total"])]
                             for p in d["products"]],
                ["line", "sku", "name", "qty", "unit price", "discount", "total"],
                ["left", "left", "left", "right", "right", "right", "right"])
    if settings.modules.quotes:
        section("Quotes", [[q["id"], q["status"], q["created"], len(q["lines"]),
                            _money(q["total"])] for q in d["quotes"]],
                ["quote", "status", "created", "lines", "total"],
                ["left", "left", "left", "right", "right"])
    section("Contacts", [[c["id"], c["name"], c["role"], c["email"], c["phone"]]
                         for c in d["contacts"]], ["id", "name", "role", "email", "phone"])
    section("Partners", [[p["id"], p["account"], p["role"]] for p in d["partners"]],
            ["id", "account", "role"])
    section("Competitors", [[c["id"], c["account"], c["role"], c["products"]]
                            for c in d["competitors"]], ["id", "account", "role", "products"])
    section("Activities", [[a["id"], a["date"], a["type"], a["subject"],
                            "done" if a["done"] else "to do"]
                           for a in sorted(d["activities"], key=lambda a: a["date"])],
            ["id", "date", "type", "subject", "state"])
    section("Documents", [[x["id"], x["title"], x["path"], x["size"]] for x in d["documents"]],
            ["id", "title", "path", "bytes"])
    return lines


@cli.command()
@click.argument("ref", metavar="ID")
@format_option("text", "json")
@pass_state
def show(state: State, ref: str, fmt: str) -> None:
    """Show one opportunity: its data and every panel.

    ID is an id or any prefix of it that names one opportunity.

    \b
    Example:  opp show 4k7q --format json
    """
    from ..read.source import of

    repo = state.repo
    source = of(repo)
    data = source.detail(repo.resolve(ref))  # from the index when it has this file
    if fmt == "json":
        emit_json(data)
    else:
        click.echo(_render(data, source.settings()))


LIST_COLUMNS = ["id", "name", "customer", "stage", "status", "probability", "amount",
                "amount_source", "objective", "currency", "close_date", "owner", "ref",
                "category"]


@cli.command("list")
@click.option("--stage", help="Only this stage (id or label).")
@click.option("--status", type=click.Choice(["open", "won", "lost"]), help="Only this status.")
@click.option("--customer", help="Only this account (id, name or alias), or customers "
                                "whose name contains this text.")
@click.option("--owner", metavar="NAME|me", callback=me_or_name,
              help="Only owners whose name contains this text (case-insensitive); 'me' is "
                   "the identity opp commits as.")
@format_option("table", "json", "csv")
@pass_state
def list_(state: State, stage, status, customer, owner, fmt: str) -> None:
    """List opportunities, a row each, by close date.

    \b
    Example:  opp list --status open --owner alice --format csv
    """
    from ..domain.records import summary
    from ..domain.stages import resolve_stage
    from ..read.index.accounts import customer_query
    from ..read.source import of

    source = of(state.repo)
    settings = source.settings()
    stage_id = resolve_stage(settings, stage).id if stage else None
    query = customer_query(state.repo, customer)
    records = []
    for r in source.records():  # from the index: no YAML parsed for unchanged files
        if stage_id and r.stage != stage_id:
            continue
        if status and r.status != status:
            continue
        if query is not None and not query(r.customer, r.customer_id):
            continue
        if owner and owner.casefold() not in r.owner.casefold():
            continue
        records.append(r)
    # by close date (none last), then name; a date's order is its ISO text's
    records.sort(key=lambda r: (r.close_date is None, r.close_date or "", r.name.casefold()))
    if fmt == "json":  # written as it goes: 100,000 rows are 40 MB of JSON
        emit_json_list(summary(r) for r in records)
        return
    rows = [summary(r) for r in records]
    if fmt == "csv":
        emit_csv(rows, LIST_COLUMNS)
    elif not rows:
        note("no opportunities" + (" match" if any((stage, status, customer, owner)) else
                                   " yet; create one with: opp new NAME --customer CUSTOMER"))
    else:
        click.echo(table([[r["id"], r["name"], r["customer"], r["stage"],
                           _money(r["amount"], r["currency"]),
                           r["close_date"], r["owner"]] for r in rows],
                         ["id", "name", "customer", "stage", "amount", "close", "owner"],
                         align=["left", "left", "left", "left", "right", "left", "left"]))


# ---------------------------------------------------------------- set


SETTABLE = ("name", "customer", "amount", "objective", "close-date", "owner", "currency", "ref",
            "category")


@cli.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("ref", metavar="ID")
@click.argument("field", metavar="FIELD",
                type=click.Choice(SETTABLE + ("close_date",), case_sensitive=False))
@click.argument("value")
@click.option("--create/--no-create", default=None,
              help="For the customer, as opp new: --create makes a new account even when "
                   "names are close to this one; --no-create refuses when none matches.")
@pass_state
def set_(state: State, ref: str, field: str, value: str, create: bool | None) -> None:
    """Change a field: name, customer, amount, objective, close-date, owner, currency, ref,
    category.

    The amount can be typed only while the opportunity is open and has no
    products (R5); otherwise it is the products' total. 'none' clears the
    objective, the close date or the ref. The forecast category (commit,
    best_case, pipeline, omitted) overrides the stage's; 'none' returns to it. The
    customer is resolved as opp new --customer resolves it.

    \b
    Example:  opp set 4k7q close-date 2027-01-31
              opp set 4k7q customer "Acme S.r.l." --no-create
    """
    from ..domain import opportunity
    from ..domain.money import money_str, parse_money
    from ..errors import UsageError

    field = field.lower().replace("_", "-")
    attr, clear = field.replace("-", "_"), value.strip().lower() == "none"

    def parsed():
        try:
            clearable = field in ("objective", "close-date", "ref", "category")
            if not value.strip():  # an empty variable in a script never clears by accident
                raise ValueError(f"{field} cannot be empty"
                                 + (" ('none' clears it)" if clearable else ""))
            if clear:
                if clearable:
                    return None
                raise ValueError(f"{field} cannot be empty")
            if field in ("amount", "objective"):
                return parse_money(value, field)
            if field == "close-date":
                return parse_date(value)
            if field == "currency":
                return CURRENCY.convert(value, None, None)
            if field == "category":
                return opportunity.category_value(value)
            return LINE.convert(value, None, None)
        except (ValueError, click.BadParameter) as exc:
            message = exc.message if isinstance(exc, click.BadParameter) else str(exc)
            raise UsageError(f"invalid {field}: {message}") from None

    if create is not None and field != "customer":
        raise UsageError(f"--create and --no-create are for the customer, not the {field}")
    new_value = parsed()
    if field == "customer":
        from ..store.accounts import set_customer

        after, account = set_customer(state.repo, ref, new_value, create=create)
        note(f"{after.id}: {after.action}" if after.action else f"{after.id}: nothing to change")
        if account is not None:
            note(f"created account {account.id} {account.name}")
        return

    def change(opp, repo: Repo):
        if field == "amount":
            return opportunity.set_amount(opp, repo.settings, new_value)
        if field == "objective":
            return opportunity.set_objective(opp, repo.settings, new_value)
        if field == "ref" and new_value and new_value != opp.ref:
            opportunity.ensure_ref_free(new_value, [i for i in _ref_holders(repo, new_value)
                                              if i != opp.id])
        return opportunity.set_field(opp, repo.settings, attr, new_value)

    def describe(before, after) -> str:
        old, new_ = getattr(before, attr), getattr(after, attr)
        if field in ("amount", "objective"):
            old = money_str(old) if old is not None else "none"
            new_ = money_str(new_) if new_ is not None else "none"
        return f"set {field} {old or 'none'} -> {new_ or 'none'}"

    apply_change(state, ref, "set", change, describe)


def _ref_holders(repo: Repo, ref: str) -> list[str]:
    """The opportunities holding ``ref``: from the report index, else (a file of the repo
    is invalid: not this command's business) file by file, skipping what cannot be read."""
    from ..errors import OppError
    from ..read.index.worktree import working_records
    from ..store.files import OPPORTUNITIES_DIR

    try:
        return [r.id for r in working_records(repo) if r.ref == ref]
    except OppError:
        pass
    holders = []
    for opp_id in repo.ids():
        try:
            data, _ = repo.read_yaml(f"{OPPORTUNITIES_DIR}/{opp_id}.yaml")
        except OppError:
            continue
        if isinstance(data, dict) and data.get("ref") == ref:
            holders.append(opp_id)
    return holders


# ---------------------------------------------------------------- stages and closing


def _stage_words(before, after) -> str:
    words = f"stage {before.stage} -> {after.stage}"
    if after.close_date and after.close_date != before.close_date:
        words += f", closed {after.close_date}"
    if after.lost_reason:
        words += f" ({after.lost_reason})"
    if after.amount_source == "quote" and before.amount_source != "quote":
        # R7: winning takes the accepted quote's total and catalog lines; say so
        words += (f", amount {before.amount} -> {after.amount} and products from the "
                  "accepted quote")
    return words


@cli.command()
@click.argument("ref", metavar="ID")
@click.argument("stage_name", metavar="STAGE")
@click.option("--date", "close_date", type=DATE, help="Closing day, for a won or lost stage.")
@click.option("--reason", type=LINE, help="Why it was lost, for a lost stage.")
@pass_state
def stage(state: State, ref: str, stage_name: str, close_date, reason) -> None:
    """Move an open opportunity to STAGE (id or label).

    A won or lost stage closes it, on --date (default today).

    \b
    Example:  opp stage 4k7q negotiation
    """
    from ..domain import opportunity, stages
    from ..env import today

    def change(opp, repo: Repo):
        target = stages.resolve_stage(repo.settings, stage_name)
        return opportunity.change_stage(opp, repo.settings, target, today=today(),
                                  close_date=close_date, reason=reason)

    apply_change(state, ref, "stage", change, _stage_words)


@cli.command()
@click.argument("ref", metavar="ID")
@click.option("--won", is_flag=True, help="Close as won.")
@click.option("--lost", is_flag=True, help="Close as lost.")
@click.option("--reason", type=LINE, help="Why it was lost (a lost reason of opp.yaml, or "
                                           "free text).")
@click.option("--date", "close_date", type=DATE, help="The closing day (default today).")
@pass_state
def close(state: State, ref: str, won: bool, lost: bool, reason, close_date) -> None:
    """Close an opportunity as won or lost; the close date becomes --date (default today).

    \b
    Example:  opp close 4k7q --lost --reason price
    """
    from ..domain import opportunity
    from ..env import today
    from ..errors import UsageError

    if won == lost:
        raise UsageError("say how it ended: either --won or --lost")
    outcome = "won" if won else "lost"
    if reason and outcome == "won":
        raise UsageError("--reason is for closing as lost, not won")

    def change(opp, repo: Repo):
        return opportunity.close(opp, repo.settings, won=outcome == "won", today=today(),
                           close_date=close_date, reason=reason)

    apply_change(state, ref, "close", change,
                 lambda b, a: f"close {outcome}: " + _stage_words(b, a))


@cli.command()
@click.argument("ref", metavar="ID")
@click.option("--stage", "stage_name", help="The open stage to return to (default: the stage "
                                            "it had before it closed).")
@click.option("--close-date", type=DATE, help="The expected close date (default: the one it "
                                             "had before it closed).")
@pass_state
def reopen(state: State, ref: str, stage_name: str | None, close_date: date | None) -> None:
    """Reopen a closed opportunity so that it can be changed again.

    It goes back where it was before it closed: its stage and its expected close
    date (the actual close date and the lost reason are cleared). --stage and
    --close-date choose others. A quote accepted to win it becomes superseded
    (R15a): closing it won again keeps the products' total, unless a new quote is
    accepted.

    \b
    Example:  opp reopen 4k7q --stage proposal --close-date 2027-03-31
    """
    from ..domain import opportunity, stages

    def change(opp, repo: Repo):
        previous = None
        if not stage_name or close_date is None:  # where it was, when history tells
            from ..read.history import before_closing

            open_ids = {s.id for s in repo.settings.stages if s.kind == "open"}
            previous = before_closing(repo, opp.id, open_ids)
        if stage_name:
            target = stages.resolve_stage(repo.settings, stage_name)
        else:
            target = repo.settings.stage(previous[0]) if previous else None
        expected = close_date if close_date is not None else previous and previous[1]
        return opportunity.reopen(opp, repo.settings, target, expected or None)

    superseded: list[str] = []

    def words(before: Opportunity, after: Opportunity) -> str:
        expected = f", close date {after.close_date}" if after.close_date else ""
        superseded[:] = [q.id for q, was in zip(after.quotes, before.quotes, strict=True)
                         if q.status == "superseded" and was.status == "accepted"]
        gone = f", quote {', '.join(superseded)} superseded" if superseded else ""
        return f"reopen: stage {before.stage} -> {after.stage}{expected}{gone}"

    after = apply_change(state, ref, "reopen", change, words)
    if superseded:  # R15a: say what the amount is now, and how to renegotiate
        note(f"{after.id}: {amount_words(after)}; closing it won keeps it, unless a new quote "
             f"is accepted (R15a): opp quote new {after.id}")


# ---------------------------------------------------------------- delete


@cli.command()
@click.argument("ref", metavar="ID")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_state
def delete(state: State, ref: str, yes: bool) -> None:
    """Delete an opportunity and its documents, in one commit.

    Its history stays in git: 'opp changes' reports the deletion, and
    'opp undo' (or git) brings it back. Asks for confirmation on a terminal;
    scripts pass --yes.

    \b
    Example:  opp delete 4k7q --yes
    """
    import sys

    from ..errors import UsageError
    from ..store.files import DOCUMENTS_DIR, OPPORTUNITIES_DIR, files_in
    from ..store.transaction import opportunity_subject

    repo = state.repo
    opp = repo.load(repo.resolve(ref))
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(f"deleting {opp.id} ({opp.name}) needs --yes when not asked on a "
                             "terminal")
        click.confirm(f"Delete {opp.id} {opp.name} ({opp.customer})?", abort=True, err=True)
    with repo.transaction() as tx:
        path = f"{OPPORTUNITIES_DIR}/{opp.id}.yaml"
        documents = sorted(files_in(repo, f"{DOCUMENTS_DIR}/{opp.id}"))
        tx.refuse_hand_edits([path, *documents])
        current = repo.load(opp.id)  # under the lock: what is deleted is what is there
        for relpath in [path, *documents]:
            tx.write(relpath, None)
        tx.kind = "delete"
        tx.subject = opportunity_subject(current, "delete")
        tx.trailers["Opp-Id"] = current.id
    note(f"{opp.id}: deleted" + (f" with {len(documents)} document(s)" if documents else ""))
