"""The Predictions page in Chromium: an admin refits on the demo data with a double click,
one fit is stored and audited, and the model check draws."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in, wait_for_app


def _count(database: Path, sql: str) -> int:
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute(sql).fetchone()
    return int(count)


def test_admin_refits_once_with_a_double_click(page: Page, app_url: str,
                                               app_database: Path) -> None:
    before = _count(app_database, "SELECT count(*) FROM prediction_fit")
    sign_in(page, app_url, "admin")
    page.get_by_test_id("stSidebar").get_by_role("link", name="Predictions").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Predictions", exact=True)).to_be_visible()
    page.get_by_role("button", name="Refit now").dblclick()
    wait_for_app(page)
    expect(page.get_by_text("Fitted:").or_(page.get_by_text("no second fit was started"))
           ).to_be_visible(timeout=60_000)
    wait_for_app(page)
    assert _count(app_database, "SELECT count(*) FROM prediction_fit") == before + 1
    assert _count(app_database, "SELECT count(*) FROM audit_event "
                                "WHERE action = 'predict.fit'") == before + 1
    chart = page.get_by_test_id("stVegaLiteChart").first
    expect(chart.locator("canvas, svg").first).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Fitted")).to_contain_text("today")
    page.screenshot(path=str(app_database.parent / "predictions.png"), full_page=True)
