"""The public CRM data set imported the first round's way (customers as text), then
``opp init --upgrade``d into accounts (#20): every report gives the same totals before
and after. Skips when the data set is absent (see test_dataset.py)."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from conftest import Opp

REPORTS = (("pipeline",), ("forecast", "--by", "quarter"), ("forecast", "--by", "owner"),
           ("forecast", "--by", "stage"))


def first_round(root) -> None:
    """Deals naming their customers as text, no accounts: as the first round wrote them."""
    scalars = {}  # each account's name as opp wrote a customer's text
    for p in (root / "accounts").glob("*.yaml"):
        name = yaml.safe_load(re.search(r"^name: (.*)$", p.read_text(), re.M).group(1))
        scalar = yaml.safe_dump(name, allow_unicode=True, width=1 << 16)
        scalars[p.stem] = scalar.removesuffix("\n...\n").rstrip("\n")
    for path in (root / "opportunities").glob("*.yaml"):
        text = path.read_text()
        account = re.search(r"^customer: (\S+)$", text, re.M).group(1)
        path.write_text(text.replace(f"\ncustomer: {account}\n",
                                     f"\ncustomer: {scalars[account]}\n"))
    shutil.rmtree(root / "accounts")


@pytest.mark.slow
def test_the_data_set_upgraded_gives_the_same_totals(dataset_pristine, tmp_path, monkeypatch):
    root = tmp_path / "crm"
    shutil.copytree(dataset_pristine, root, symlinks=True)  # imported as today
    monkeypatch.setenv("OPP_USER", "dataset test")
    opp = Opp(root)
    first_round(root)
    opp.git("add", "-A")
    opp.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first round")
    monkeypatch.chdir(root)
    before = {r: opp.json(*r) for r in REPORTS}
    customers = {r["customer"] for r in opp.json("list")}
    commits = opp.commits()
    result = opp("init", "--upgrade")
    assert opp.commits() == commits + 1
    assert "(no account)" in result.stderr
    accounts = opp.json("account", "list")
    assert {a["name"] for a in accounts} == customers
    assert sum(a["deals"] for a in accounts) == 8800
    for report, figures in before.items():
        assert opp.json(*report) == figures, report
    by = opp.json("pipeline", "--by", "customer")
    assert by["totals"] == before[("pipeline",)]["totals"]
    opp("validate")
