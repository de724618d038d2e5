"""Any sequence of commands keeps the repo valid: a property test over random sequences of
the commands that change data (new, set, stage, close, reopen, products, quotes from
draft to accepted, notes, activities, contacts, undo, delete, a small CSV import).

After every command: one commit when it changed something, none when it was refused
(and then no file changed either); ``opp validate`` accepts the repo; and the amount
rules hold, checked here independently of opp's own code (R4-R7, R10, R12, R14): an
amount from products is their total, one from a quote is the accepted quote's total
with the products its catalog lines, every quote total is the sum of its lines.
``OPP_SEQUENCE_EXAMPLES`` raises the number of sequences (default 25).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import tempfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import depth, files_outside_git
from oppcli.cli import cli

EXAMPLES = int(os.environ.get("OPP_SEQUENCE_EXAMPLES", depth(10)))
STAGES = ["prospecting", "qualification", "proposal", "negotiation", "closed-won",
          "closed-lost"]
SKUS = ["SRV-01", "LIC-10", "CONS"]

deal = st.integers(0, 2)
item = st.integers(0, 3)
money = st.decimals(min_value=0, max_value=10**6, places=2).map(str)
qty = st.decimals(min_value=Decimal("0.5"), max_value=50, places=1).map(str)
discount = st.sampled_from(["0", "10", "12.5", "33.33", "100"])
sku = st.sampled_from(SKUS)
text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)

_quote_steps = [
    st.tuples(st.just("quote-new"), deal),
    st.tuples(st.just("quote-line"), deal, item, st.none() | sku, money, qty),
    st.tuples(st.just("quote-send"), deal, item),
    st.tuples(st.just("quote-close"), deal, item, st.booleans()),
]
step = st.one_of(
    st.tuples(st.just("new"), st.none() | money),
    st.tuples(st.just("amount"), deal, money),
    st.tuples(st.just("objective"), deal, money),
    st.tuples(st.just("stage"), deal, st.sampled_from(STAGES)),
    st.tuples(st.just("close"), deal, st.booleans()),
    st.tuples(st.just("reopen"), deal),
    st.tuples(st.just("reopen"), deal),
    st.tuples(st.just("add-product"), deal, sku, qty, st.none() | money, st.none() | discount),
    st.tuples(st.just("add-product"), deal, sku, qty, st.none() | money, st.none() | discount),
    st.tuples(st.just("update-product"), deal, item, st.none() | qty, st.none() | money,
              st.none() | discount),
    st.tuples(st.just("remove-product"), deal, item),
    *_quote_steps,
    # a quote takes four steps to be accepted, too many to come by chance: one step
    st.tuples(st.just("quote-flow"), deal, st.none() | sku, money, st.booleans()),
    st.tuples(st.just("quote-flow"), deal, st.none() | sku, money, st.booleans()),
    st.tuples(st.just("note"), deal, text),
    st.tuples(st.just("activity"), deal, text),
    st.tuples(st.just("contact"), deal, text),
    st.tuples(st.just("undo")),
    st.tuples(st.just("delete"), deal),
    st.tuples(st.just("import"), st.lists(st.tuples(st.integers(0, 3), money, st.none() | sku),
                                          min_size=1, max_size=4)),
)


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def line_total(line: dict) -> Decimal:
    """R10, written out again: quantity x unit price x (1 - discount/100), per line."""
    return cents(Decimal(str(line["quantity"])) * Decimal(str(line["unit_price"]))
                 * (1 - Decimal(str(line.get("discount", 0))) / 100))


class Repo:
    def __init__(self, root: Path):
        self.root = root

    def opportunities(self) -> dict[str, dict]:
        return {p.stem: yaml.safe_load(p.read_text())
                for p in sorted((self.root / "opportunities").glob("*.yaml"))} \
            if (self.root / "opportunities").is_dir() else {}

    def commits(self) -> int:
        return int(subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=self.root,
                                  capture_output=True, text=True, check=True).stdout)

    def files(self) -> dict:
        return files_outside_git(self.root)

    def commands(self, action: tuple, n: int):
        """The command lines of ``action``, each made against the repo as it is then."""
        if action[0] != "quote-flow":
            args = self.command(action, n)
            if args:
                yield args
            return
        _, d, s, price, accept = action
        yield ["quote", "new", self.deal(d)]
        opp = self.opportunities().get(self.deal(d), {})
        if not opp.get("quotes"):
            return
        quote = opp["quotes"][-1]["id"]
        what = ["--sku", s] if s else ["--description", f"Service {n}", "--price", price]
        yield ["quote", "add-line", self.deal(d), quote, *what]
        yield ["quote", "send", self.deal(d), quote]
        yield ["close-quote", self.deal(d), quote, "--accepted" if accept else "--rejected"]

    def deal(self, index: int) -> str:
        ids = list(self.opportunities()) or ["none"]
        return ids[index % len(ids)]

    def command(self, action: tuple, n: int) -> list[str] | None:
        """The command line of ``action`` against the repo as it is now."""
        kind, *args = action
        opps = self.opportunities()
        if kind == "new" or (not opps and kind not in ("undo", "import")):
            amount = args[0] if kind == "new" else None
            return ["new", f"Deal {n}", "--customer", "Acme",
                    *(["--amount", amount] if amount else [])]
        if kind == "undo":
            return ["undo"]
        if kind == "import":
            out = io.StringIO()
            rows = csv.writer(out)
            rows.writerow(["ref", "name", "customer", "amount", "product"])
            for ref, amount, product in args[0]:
                rows.writerow([f"R{ref}", f"Imported {ref}", "Acme", amount, product or ""])
            sheet = self.root.parent / f"sheet{n}.csv"
            sheet.write_text(out.getvalue())
            return ["import", str(sheet)]
        ids = list(opps)
        d = ids[args[0] % len(ids)]
        opp = opps[d]
        lines = [p["id"] for p in opp.get("products", [])]
        quotes = [q["id"] for q in opp.get("quotes", [])]
        pick = args[1] if len(args) > 1 and isinstance(args[1], int) else 0
        line = lines[pick % len(lines)] if lines and kind.endswith("-product") else None
        quote = quotes[pick % len(quotes)] if quotes and kind.startswith("quote-") else None
        if kind in ("amount", "objective"):
            return ["set", d, kind, args[1]]
        if kind == "stage":
            return ["stage", d, args[1]]
        if kind == "close":
            return ["close", d, "--won" if args[1] else "--lost"]
        if kind == "reopen":
            return ["reopen", d]
        if kind == "add-product":
            _, s, q, price, disc = args
            return ["add-product", d, s, "--qty", q, *(["--price", price] if price else []),
                    *(["--discount", disc] if disc else [])]
        if kind == "update-product" and line:
            _, _, q, price, disc = args
            return ["update-product", d, line, *(["--qty", q] if q else []),
                    *(["--price", price] if price else []),
                    *(["--discount", disc] if disc else [])]
        if kind == "remove-product" and line:
            return ["remove-product", d, line]
        if kind == "quote-new" or (kind.startswith("quote-") and not quote):
            return ["quote", "new", d]
        if kind == "quote-line":
            _, _, s, price, q = args
            what = ["--sku", s] if s else ["--description", f"Service {n}", "--price", price]
            return ["quote", "add-line", d, quote, *what, "--qty", q]
        if kind == "quote-send":
            return ["quote", "send", d, quote]
        if kind == "quote-close":
            return ["close-quote", d, quote, "--accepted" if args[2] else "--rejected"]
        if kind == "note":
            return ["note", d, args[1]]
        if kind == "activity":
            return ["activity", "add", d, "--type", "call", "--subject", args[1]]
        if kind == "contact":
            return ["contact", "add", d, args[1], "--role", "buyer"]
        if kind == "delete":
            return ["delete", d, "--yes"]
        return None


def check_amounts(opps: dict[str, dict]) -> None:
    for opp_id, opp in opps.items():
        amount = Decimal(str(opp["amount"]))
        products = opp.get("products", [])
        quotes = opp.get("quotes", [])
        for quote in quotes:  # R12
            assert Decimal(str(quote["total"])) == sum(
                (line_total(line) for line in quote.get("lines", [])), Decimal("0.00")), quote
        accepted = [q for q in quotes if q["status"] == "accepted"]
        assert len(accepted) <= 1  # R15
        for line in products:  # R10
            assert Decimal(str(line["total"])) == line_total(line), (opp_id, line)
        source = opp.get("amount_source", "manual")
        if source == "products":  # R4, R6
            assert products and amount == sum(map(line_total, products)), opp_id
        elif source == "quote":  # R7, R14
            [quote] = accepted
            assert amount == Decimal(str(quote["total"])), opp_id
            catalog_lines = [(ln["sku"], Decimal(str(ln["quantity"])),
                              Decimal(str(ln["unit_price"])),
                              Decimal(str(ln.get("discount", 0))))
                             for ln in quote["lines"] if ln.get("sku")]
            assert [(p["sku"], Decimal(str(p["quantity"])), Decimal(str(p["unit_price"])),
                     Decimal(str(p.get("discount", 0)))) for p in products] == catalog_lines
        else:  # R5: typed only without products
            assert not products, opp_id


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(st.lists(step, min_size=6, max_size=30))
def test_any_sequence_of_commands_keeps_the_repo_valid(crm, actions):
    folder = Path(tempfile.mkdtemp(dir=crm.root.parent))
    repo = Repo(folder / "crm")
    shutil.copytree(crm.root, repo.root, symlinks=True)
    runner = CliRunner()
    try:
        for args in (args for n, action in enumerate(actions)
                     for args in repo.commands(action, n)):
            commits, files = repo.commits(), repo.files()
            result = runner.invoke(cli, ["--repo", str(repo.root), *args], prog_name="opp")
            assert result.exit_code in (0, 1, 2), (args, result.output)
            assert "internal error" not in result.stderr, (args, result.stderr)
            made = repo.commits() - commits
            if result.exit_code:  # refused: no commit, no file changed
                assert result.stderr.count("\n") == 1, (args, result.stderr)
                assert made == 0 and repo.files() == files, args
            else:  # one commit when something changed, else none and nothing changed
                assert made in (0, 1), args
                if made == 0:
                    assert repo.files() == files, args
            status = subprocess.run(["git", "status", "--porcelain"], cwd=repo.root,
                                    capture_output=True, text=True).stdout
            assert status == "", (args, status)
            valid = runner.invoke(cli, ["--repo", str(repo.root), "validate"])
            assert valid.exit_code == 0, (args, valid.output)
            check_amounts(repo.opportunities())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
