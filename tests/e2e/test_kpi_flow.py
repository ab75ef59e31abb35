"""The KPI page in Chromium: the charts draw, a filter changes a tile and the link, and the
link opens the same view again, on the tab that was open; downloads are in euros, named and
formula-safe."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from db.core.access import Actor
from db.core.engine import make_engine
from db.customers.orders import record_order
from db.customers.service import get_customer, update_customer
from db.kpi.periods import preset
from db.kpi.sales import sales
from db.kpi.top import top_customers
from tests.e2e.conftest import cut_off_figures, sign_in, wait_for_app

ADMIN = Actor("admin", "admin")


def test_charts_draw_and_a_filter_changes_a_tile(page: Page, app_url: str,
                                                 app_database: Path) -> None:
    since = (datetime.now(UTC).date() - timedelta(days=89)).isoformat()
    with sqlite3.connect(app_database) as connection:
        country, = connection.execute(
            "SELECT country FROM customer GROUP BY country ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        orders, german_orders = connection.execute(
            "SELECT count(*), sum(c.country = ?) FROM orders o "
            "JOIN customer c ON c.id = o.customer_id "
            "WHERE o.amount >= 0 AND o.ordered_at >= ?", (country, since)).fetchone()
    sign_in(page, app_url, "manager")
    page.get_by_test_id("stSidebar").get_by_role("link", name="KPIs").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="KPIs")).to_be_visible()
    orders_tile = page.get_by_test_id("stMetric").filter(has_text="Orders").first
    everyone = f"{orders:,}"
    expect(orders_tile).to_contain_text(everyone)
    # Vega draws each chart into a canvas (or an SVG) once its data is in. Only the open
    # tab is drawn: Sales first.
    charts = page.get_by_test_id("stVegaLiteChart")
    expect(charts).to_have_count(4)
    expect(charts.first.locator("canvas, svg").first).to_be_visible()
    page.screenshot(path=str(app_database.parent / "kpis.png"), full_page=True)

    country_filter = page.get_by_test_id("stMultiSelect").filter(has_text="Country")
    country_filter.get_by_role("combobox").click()
    page.get_by_role("option", name=country, exact=True).click()
    page.keyboard.press("Escape")
    wait_for_app(page)
    narrowed = f"{german_orders:,}"
    expect(orders_tile).to_contain_text(narrowed)
    expect(page).to_have_url(f"{app_url}/kpis?period=last_90&by=week&country={country}")

    # The link opens the same view in a new session.
    shared = page.url
    page.goto(shared)
    wait_for_app(page)
    expect(page.get_by_test_id("stMetric").filter(has_text="Orders").first
           ).to_contain_text(narrowed)

    # The other tabs draw their own charts, one tab at a time.
    page.get_by_role("tab", name="Customers").click()
    expect(page.get_by_role("heading", name="Cohort retention")).to_be_visible()
    expect(page.get_by_role("heading", name="Revenue by channel")).to_have_count(0)
    expect(charts).to_have_count(4)
    expect(charts.last.locator("canvas, svg").first).to_be_visible()
    # The open tab is in the link: a reload stays on it, with the filter.
    expect(page).to_have_url(f"{app_url}/kpis?period=last_90&by=week&country={country}"
                             "&tab=Customers")
    page.reload()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Cohort retention")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Orders").first
           ).to_contain_text(narrowed)
    page.get_by_role("tab", name="Predictions").click()
    expect(page.get_by_role("heading", name="Predictions", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Cohort retention")).to_have_count(0)


def _download(page: Page, button: Locator) -> tuple[str, list[dict[str, str]]]:
    """Click a download button; the file's name and its rows."""
    with page.expect_download() as started:
        button.get_by_role("button").click()
    download = started.value
    text = Path(download.path()).read_bytes().decode("utf-8-sig")
    return download.suggested_filename, list(csv.DictReader(io.StringIO(text)))


def test_downloads_are_in_euros_named_by_period_and_formula_safe(
        page: Page, app_url: str, app_database: Path) -> None:
    today = datetime.now(UTC).date()
    period = preset("last_90", today)
    engine = make_engine(f"sqlite:///{app_database}")
    top = top_customers(ADMIN, period, engine=engine).iloc[0]
    customer = get_customer(ADMIN, int(top["customer_id"]), engine=engine)
    update_customer(ADMIN, customer.id, customer.version,
                    {"first_name": '=HYPERLINK("http://evil.example","x")'}, engine=engine)
    revenue = sales(ADMIN, period, engine=engine).revenue_cents
    sign_in(page, app_url, "manager")
    page.get_by_test_id("stSidebar").get_by_role("link", name="KPIs").click()
    wait_for_app(page)
    dates = f"{period.first:%Y-%m-%d}_{period.last:%Y-%m-%d}"
    # Every button says "Download the data (CSV)"; each is found by its key, not its place,
    # which can change while the page is still drawing.
    revenue_button = page.locator(".st-key-csv_revenue-by-week")
    top_button = page.locator(".st-key-csv_top-customers")
    expect(revenue_button).to_be_visible()

    name, rows = _download(page, revenue_button)
    assert name == f"revenue-by-week_{dates}.csv"
    assert sum(Decimal(row["revenue_eur"]) for row in rows) == Decimal(revenue).scaleb(-2)
    assert all(len(row["revenue_eur"].split(".")[1]) == 2 for row in rows)

    page.get_by_role("tab", name="Customers").click()  # the top customers' tab
    wait_for_app(page)
    expect(top_button).to_be_visible()
    name, rows = _download(page, top_button)
    assert name == f"top-customers_{dates}.csv"
    assert rows[0]["first_name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[0]["revenue_eur"] == f"{top['revenue_cents'] / 100:.2f}"
    assert "revenue_cents" not in rows[0]


def test_tile_values_fit_their_tiles_at_common_widths(page: Page, app_url: str,
                                                      app_database: Path) -> None:
    """A seven-figure revenue (the size that was cut to "€2,826,06…") and every other tile
    show whole at 1,280 and 1,440 px; screenshots of the tiles are kept beside the log."""
    engine = make_engine(f"sqlite:///{app_database}")
    record_order(ADMIN, 1, amount="2826064.12", category="electronics", channel="web",
                 product="A fleet of laptops", engine=engine)
    sign_in(page, app_url, "manager")
    for width in (1280, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{app_url}/kpis?period=last_365&by=month")
        wait_for_app(page)
        expect(page.get_by_test_id("stMetricValue")).to_have_count(12)
        cut = cut_off_figures(page)
        page.screenshot(path=str(app_database.parent / f"kpi-tiles-{width}.png"))
        assert cut == [], (width, cut)
