"""The KPI page in Chromium: the charts draw, a filter changes a tile and the link, and the
link opens the same view again."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in, wait_for_app


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
    # Vega draws each chart into a canvas (or an SVG) once its data is in.
    charts = page.get_by_test_id("stVegaLiteChart")
    expect(charts.first.locator("canvas, svg").first).to_be_visible()
    assert charts.count() >= 8
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
