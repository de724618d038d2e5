"""The dashboard in a real browser: Debian's headless Chromium, driven by Playwright (no
browser download), opens the page from a file, finds the charts and the totals, keeps
screenshots (desktop, phone) in the test's tmp folder, and sees no request leave the page.

Skipped only when Chromium cannot be found; ``OPP_BROWSER_TEST=required`` (set by
.ci/run, which installs Chromium) turns that skip into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
from decimal import Decimal as D
from pathlib import Path

import pytest
from test_dashboard import EVIL, book  # noqa: F401  (the fixture)

from oppcli.domain.money import money_human

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _chromium() -> str | None:
    for candidate in (os.environ.get("OPP_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _skip(reason: str):
    if os.environ.get("OPP_BROWSER_TEST") == "required":
        pytest.fail(f"{reason}, and OPP_BROWSER_TEST=required")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One Chromium for the module, with a fresh profile folder."""
    executable = _chromium()
    if executable is None:
        _skip("Chromium not found (install Debian's: apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip("playwright is not installed (pip install -e '.[test]')")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900}, service_workers="block")
        try:
            yield context
        finally:
            context.close()


def test_the_page_in_chromium(browser, book, tmp_path):
    out = tmp_path / "pipeline.html"
    book("dashboard", "-o", str(out))
    url = out.as_uri()

    requests, problems = [], []
    browser.on("request", lambda r: requests.append(r.url))
    # anything but the page itself is recorded above and refused here, so the test
    # never reaches the network whatever happens
    browser.route(lambda u: u != url, lambda route: route.abort())
    page = browser.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(url, wait_until="load")

    # the charts: inline SVG, each an image with a name, drawn with some size
    charts = page.locator("figure > svg[role=img]")
    assert charts.count() == 6
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100
        assert charts.nth(i).get_attribute("aria-label")
    bars = page.locator("#chart-eur-funnel g.bar rect")
    assert bars.count() == 4  # the open stages
    assert page.locator("#chart-eur-funnel g.bar title").first.text_content().startswith(
        "Negotiation: 1 deal, 2,400.00 EUR")

    # the totals a reader sees are the reports'
    pipeline = book.json("pipeline")
    for total in pipeline["totals"]:
        c = total["currency"]
        shown = page.locator(f'dl.kpis[data-currency="{c}"] dd[data-key="open_amount"]')
        assert shown.inner_text() == money_human(D(total["open_amount"]), c)
        foot = page.locator(f'table[data-table="funnel"][data-currency="{c}"] tfoot '
                            'td[data-key="amount"]')
        assert foot.inner_text() == money_human(D(total["open_amount"]))
    forecast = book.json("forecast")
    eur = next(t for t in forecast["totals"] if t["currency"] == "EUR")
    assert page.locator('table[data-table="forecast"][data-currency="EUR"] tfoot '
                        'td[data-key="weighted"]').inner_text() == money_human(D(eur["weighted"]))
    data = page.evaluate("JSON.parse(document.getElementById('opp-data').textContent)")
    assert data["pipeline"] == pipeline and data["forecast"] == forecast

    # user text is text: the evil name is shown as typed, and made no element
    assert page.locator("img, iframe, object, embed").count() == 0
    assert page.locator("script:not([type='application/json'])").count() == 0
    assert EVIL in page.locator('table[data-table="top"][data-currency="EUR"]').inner_text()

    # screenshots to look at: desktop, phone, and the page as printed
    page.screenshot(path=str(tmp_path / "dashboard-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    assert charts.first.bounding_box()["width"] <= 390
    page.screenshot(path=str(tmp_path / "dashboard-phone.png"), full_page=True)
    page.emulate_media(media="print")
    assert page.locator("nav").evaluate("e => getComputedStyle(e).display") == "none"
    page.pdf(path=str(tmp_path / "dashboard.pdf"))
    assert (tmp_path / "dashboard.pdf").stat().st_size > 10_000

    page.close()
    assert requests and set(requests) == {url}, json.dumps(requests, indent=1)
    assert problems == [], problems
