"""Order entry in Chromium: a manager records a phone order with a double click on a
profile, sees it listed and counted once; marketing sees the orders but no form; the
customer's record downloads as a workbook."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import open_tab, sign_in, wait_for_app


def _customer(app_database: Path) -> int:
    with sqlite3.connect(app_database) as connection:
        (customer_id,) = connection.execute(
            "SELECT id FROM customer WHERE deleted_at IS NULL ORDER BY id LIMIT 1 OFFSET 7"
        ).fetchone()
    return int(customer_id)


def _orders(app_database: Path, customer_id: int, product: str) -> list[tuple[float, str, int]]:
    with sqlite3.connect(app_database) as connection:
        return [(float(amount), currency, quantity) for amount, currency, quantity in
                connection.execute("SELECT amount, currency, quantity FROM orders "
                                   "WHERE customer_id = ? AND product = ?",
                                   (customer_id, product))]


def test_a_manager_records_a_phone_order_once_and_sees_it_listed(
        page: Page, app_url: str, app_database: Path) -> None:
    customer_id = _customer(app_database)
    sign_in(page, app_url, "manager")
    page.goto(f"{app_url}/customer?customer={customer_id}")
    wait_for_app(page)
    orders_before = page.get_by_test_id("stMetric").filter(has_text="Orders").first.inner_text()
    open_tab(page, "Orders")
    page.get_by_role("textbox", name="Amount").fill("1234.50")
    page.get_by_role("textbox", name="Currency").fill("usd")
    page.get_by_role("textbox", name="Category").fill("garden")
    page.get_by_role("textbox", name="Product").fill("Browser-typed lawn mower")
    page.get_by_role("button", name="Record").dblclick()
    wait_for_app(page)
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text("Browser-typed lawn mower")
    expect(page.get_by_role("textbox", name="Product")).to_have_value("")
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    assert _orders(app_database, customer_id, "Browser-typed lawn mower") == [
        (1234.5, "USD", 1)]
    count = int(orders_before.split()[-1].replace(",", ""))
    expect(page.get_by_test_id("stMetric").filter(has_text="Orders").first).to_contain_text(
        f"{count + 1:,}")
    page.screenshot(path=str(app_database.parent / "order.png"), full_page=True)


def test_a_customers_record_downloads_as_a_workbook(page: Page, app_url: str,
                                                    app_database: Path) -> None:
    """Apart from the order entry: twice in CI, a click on "Prepare export" made within
    seconds of a double click on "Record" (whose second click the order service refused
    as already recorded) started no run, and the download never appeared. It did not recur
    here in fifty tries; the failure report now carries the page and the server's log."""
    customer_id = _customer(app_database)
    sign_in(page, app_url, "manager")
    page.goto(f"{app_url}/customer?customer={customer_id}")
    wait_for_app(page)
    page.get_by_text("Export this customer's record").click()
    page.get_by_role("button", name="Prepare export").click()
    wait_for_app(page)
    # Expected before the click, so that a miss reports what the page showed instead.
    expect(page.get_by_role("button", name="Download customer-")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download customer-").click()
    assert download.value.suggested_filename.startswith(f"customer-{customer_id}-")
    assert download.value.suggested_filename.endswith(".xlsx")


def test_marketing_sees_the_orders_but_no_order_form(page: Page, app_url: str,
                                                      app_database: Path) -> None:
    customer_id = _customer(app_database)
    sign_in(page, app_url, "marketing")
    page.goto(f"{app_url}/customer?customer={customer_id}")
    wait_for_app(page)
    open_tab(page, "Orders")
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    expect(page.get_by_role("button", name="Record")).to_have_count(0)
    expect(page.get_by_role("textbox", name="Amount")).to_have_count(0)
