"""The public CRM data set (Maven Analytics, 8,800 opportunities) imported into opp
reproduces the figures others published about it (see SOURCE.md in its folder).

The data set is read where it lies (never copied into the project); the tests skip
when it is absent. Figures are computed from ``opp export --format json``, so that
they check what opp stored, not what the CSV said. The repo is built once per run
(``dataset_repo`` in conftest.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal as D

from conftest import DATASET_IMPORT_OPTIONS as IMPORT_OPTIONS


def won(rows):
    return [r for r in rows if r["status"] == "won"]


def quarter(day: str) -> str:
    return f"{day[:4]}-Q{(int(day[5:7]) - 1) // 3 + 1}"


def test_every_row_is_one_opportunity_in_one_commit(dataset_repo):
    opp, rows, result = dataset_repo
    assert result["created"] == 8800 and result["updated"] == 0 and result["errors"] == []
    assert len(rows) == 8800
    assert len({r["ref"] for r in rows}) == 8800
    assert opp.git("log", "-1", "--format=%s").strip() == \
        "import: 8800 new, 0 updated from sales_pipeline.csv"
    assert opp.git("status", "--porcelain") == ""
    assert int(opp.git("ls-files", "opportunities").count("\n")) == 8800


def test_status_counts_and_win_rate(dataset_repo):
    _, rows, _ = dataset_repo
    status = Counter(r["status"] for r in rows)
    assert status == {"won": 4238, "lost": 2473, "open": 2089}
    assert round(100 * status["won"] / (status["won"] + status["lost"]), 2) == 63.15
    assert Counter(r["stage"] for r in rows if r["status"] == "open") == {
        "engaging": 1589, "prospecting": 500}


def test_won_revenue_and_average_deal(dataset_repo):
    _, rows, _ = dataset_repo
    revenue = sum(D(r["amount"]) for r in won(rows))
    assert revenue == D("10005534.00")
    assert round(revenue / 4238, 2) == D("2360.91")
    assert all(r["currency"] == "USD" for r in rows)
    assert all(r["amount"] == "0.00" for r in rows if r["status"] != "won")


def test_won_revenue_and_counts_by_close_quarter(dataset_repo):
    _, rows, _ = dataset_repo
    revenue: dict[str, D] = defaultdict(D)
    for r in won(rows):
        revenue[quarter(r["close_date"])] += D(r["amount"])
    assert {q: round(v / 1_000_000, 2) for q, v in revenue.items()} == {
        "2017-Q1": D("1.13"), "2017-Q2": D("3.09"), "2017-Q3": D("2.98"), "2017-Q4": D("2.80")}
    assert Counter(quarter(r["close_date"]) for r in won(rows)) == {
        "2017-Q1": 531, "2017-Q2": 1254, "2017-Q3": 1257, "2017-Q4": 1196}
    closed = Counter(quarter(r["close_date"]) for r in rows if r["status"] != "open")
    assert closed == {"2017-Q1": 647, "2017-Q2": 2032, "2017-Q3": 2047, "2017-Q4": 1985}
    assert all(r["close_date"] is None for r in rows if r["status"] == "open")


def test_won_revenue_by_product(dataset_repo):
    """The pipeline spells it GTXPro, products.csv 'GTX Pro': both are SKU GTX-Pro."""
    _, rows, _ = dataset_repo
    assert all(len(r["products"]) == 1 and r["amount_source"] == "products" for r in rows)
    by_product: dict[str, D] = defaultdict(D)
    for r in won(rows):
        by_product[r["product"]] += D(r["amount"])
    assert by_product["GTX-Pro"] == D("3510578.00")
    assert by_product["GTX-Plus-Pro"] == D("2629651.00")
    assert min(by_product.items(), key=lambda kv: kv[1]) == ("MG-Special", D("43768.00"))
    assert max(by_product, key=by_product.get) == "GTX-Pro"


def test_agents_and_blank_accounts(dataset_repo):
    _, rows, _ = dataset_repo
    revenue: dict[str, D] = defaultdict(D)
    for r in won(rows):
        revenue[r["owner"]] += D(r["amount"])
    assert max(revenue.items(), key=lambda kv: kv[1]) == ("Darcel Schlecht", D("1153214.00"))
    # the README writes "McLelland"; the data spells the name "Mclelland"
    assert min(revenue.items(), key=lambda kv: kv[1]) == ("Violet Mclelland", D("123431.00"))
    closed = Counter(r["owner"] for r in rows if r["status"] != "open")
    assert closed.most_common(2) == [("Darcel Schlecht", 553), ("Vicki Laflamme", 347)]
    blank = Counter(r["stage"] for r in rows if r["customer"] == "(no account)")
    assert blank == {"engaging": 1088, "prospecting": 337}


def test_engage_date_is_the_created_day_and_the_sales_cycle(dataset_repo):
    _, rows, _ = dataset_repo
    assert sum(1 for r in rows if r["stage"] == "prospecting") == 500
    engaged = [r for r in rows if r["stage"] != "prospecting"]
    assert all(r["created"] < "2018" for r in engaged)
    # the published average sales cycle: engage date to close date of closed deals
    cycle = [(_day(r["close_date"]) - _day(r["created"])).days for r in rows
             if r["status"] != "open"]
    assert len(cycle) == 6711 and round(D(sum(cycle)) / len(cycle), 2) == D("47.99")


def _day(text: str):
    from datetime import date

    return date.fromisoformat(text)


def test_reimporting_the_data_set_changes_nothing(dataset_repo, dataset_dir):
    opp, _, _ = dataset_repo
    head = opp.git("rev-parse", "HEAD")
    result = opp("--repo", opp.root, "import", dataset_dir / "sales_pipeline.csv",
                 *IMPORT_OPTIONS, env={"OPP_USER": "dataset test"})
    assert "nothing changed (8800 unchanged); no commit" in result.stderr
    assert opp.git("rev-parse", "HEAD") == head
    assert opp.git("status", "--porcelain") == ""


def test_pipeline_reproduces_the_published_totals(dataset_repo):
    opp, _, _ = dataset_repo
    report = opp.json("--repo", opp.root, "pipeline")
    (totals,) = report["totals"]
    assert totals["currency"] == "USD"
    assert (totals["won_count"], totals["won_amount"]) == (4238, "10005534.00")
    assert (totals["lost_count"], totals["open_count"]) == (2473, 2089)
    assert round(totals["win_rate"] * 100, 2) == 63.15
    # for people: rounded once from 4238/6711 (63.150 %), not from 0.6315 (63.1 %)
    assert "63.2 %" in opp("--repo", opp.root, "pipeline").stdout
    rows = {r["stage"]: r for r in report["rows"]}
    assert rows["won"]["count"] == 4238 and rows["won"]["weighted"] == "10005534.00"
    assert rows["engaging"]["count"] == 1589 and rows["prospecting"]["count"] == 500


def test_forecast_by_quarter_and_owner_reproduces_the_published_figures(dataset_repo):
    opp, rows, _ = dataset_repo
    report = opp.json("--repo", opp.root, "forecast", "--by", "quarter")
    groups = {r["group"]: r for r in report["rows"]}
    exact: dict[str, D] = defaultdict(D)
    for r in won(rows):
        exact[quarter(r["close_date"])] += D(r["amount"])
    for q, millions in {"2017-Q1": "1.13", "2017-Q2": "3.09", "2017-Q3": "2.98",
                        "2017-Q4": "2.80"}.items():
        assert D(groups[q]["amount"]) == exact[q]
        assert round(D(groups[q]["amount"]) / 1_000_000, 2) == D(millions)
        assert groups[q]["weighted"] == groups[q]["amount"]  # won deals count at 100 %
    assert [groups[q]["count"] for q in ("2017-Q1", "2017-Q2", "2017-Q3", "2017-Q4")] == [
        531, 1254, 1257, 1196]
    assert groups["unscheduled"]["count"] == 2089  # open deals carry no close date
    assert report["totals"][0]["amount"] == "10005534.00"
    by_owner = {r["group"]: r for r in opp.json("--repo", opp.root, "forecast", "--by",
                                                "owner")["rows"]}
    assert by_owner["Darcel Schlecht"]["amount"] == "1153214.00"
    assert by_owner["Violet Mclelland"]["amount"] == "123431.00"
