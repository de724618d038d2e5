"""The dashboard stays light at any size: it lists the latest changes of its window (50
per currency unless --changes), with the totals of all of them, so that 10,000 deals
make a page under 500 KB (an import of 8,800 deals made 2.7 MB when every change was
on the page). The size is measured, not the time."""

import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from test_dashboard import Page

from conftest import Opp

DEALS = 10_000
LIMIT = 500_000  # bytes
STAGES = ["prospecting", "qualification", "proposal", "negotiation", "closed-won",
          "closed-lost"]
WHEN = datetime(2026, 11, 26, 10, tzinfo=timezone.utc)


def deal(n: int) -> str:
    """An opportunity file as opp writes it: every stage, two currencies, long names."""
    stage = STAGES[n % len(STAGES)]
    if stage.startswith("closed"):
        close = f"2026-{n % 10 + 1:02d}-15"
    else:
        close = f"{2027 + n % 2}-{n % 12 + 1:02d}-01"
    return (f"# yaml-language-server: $schema=../.opp/schemas/opportunity.schema.json\n"
            f"id: d{n:07d}\nname: Deal {n} for the renewal of every licence of the group\n"
            f"customer: Customer {n % 700} International\nstage: {stage}\n"
            f"amount: {1000 + n}.50\namount_source: manual\nobjective: null\n"
            f"currency: {'USD' if n % 3 == 0 else 'EUR'}\nclose_date: {close}\n"
            f"owner: Owner {n % 30}\nlost_reason: {'price' if stage == 'closed-lost' else 'null'}"
            "\nref: null\ncreated: 2026-11-26\nproducts: []\nquotes: []\ncontacts: []\n"
            "partners: []\ncompetitors: []\nactivities: []\ndocuments: []\nnotes: []\n")


def commit_deals(root: Path, count: int) -> None:
    """One commit adding ``count`` opportunity files, written by git fast-import (one
    process, no loose objects), then checked out: as a bulk import leaves a repo."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()

    branch, head = git("symbolic-ref", "HEAD"), git("rev-parse", "HEAD")
    stamp = f"{int(WHEN.timestamp())} +0000"
    message = f"{count} deals".encode()
    out = [f"commit {branch}\n".encode(),
           f"author Alice <alice@example.invalid> {stamp}\n".encode(),
           f"committer Alice <alice@example.invalid> {stamp}\n".encode(),
           b"data %d\n%s\n" % (len(message), message), f"from {head}\n".encode()]
    for n in range(count):
        body = deal(n).encode()
        out += [f"M 100644 inline opportunities/d{n:07d}.yaml\n".encode(),
                b"data %d\n%s\n" % (len(body), body)]
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=b"".join(out),
                   check=True)
    git("reset", "-q", "--hard")


@pytest.mark.slow
def test_ten_thousand_deals_make_a_page_under_500_kb(crm, monkeypatch):
    monkeypatch.setenv("OPP_TODAY", "2026-11-26")
    commit_deals(crm.root, DEALS)
    assert crm.status() == ""
    r = Opp(crm.root)("dashboard", "-o", "-")
    size = len(r.stdout.encode())
    assert size < LIMIT, f"the page is {size:,} bytes at {DEALS:,} deals"

    page = Page(r.stdout)
    changes = page.data["changes"]
    assert changes["count"] == DEALS  # every deal is new in the window
    assert sum(t["new_count"] for t in changes["totals"]) == DEALS
    usd = len(range(0, DEALS, 3))
    assert [(t["currency"], t["new_count"]) for t in changes["totals"]] == [
        ("EUR", DEALS - usd), ("USD", usd)]
    assert len(changes["changes"]) == 2 * 50
    assert len(page.tables[("changes", "EUR")]["rows"]) == 50
    assert f"The latest 50 of {DEALS - usd:,} changes" in r.stdout
    pipeline = page.data["pipeline"]
    assert sum(t["open_count"] + t["won_count"] + t["lost_count"]
               for t in pipeline["totals"]) == DEALS
