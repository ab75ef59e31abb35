"""Erasure in Chromium: an admin finds a customer, erases them from the Privacy tab by typing
their e-mail, and then neither their name nor their e-mail finds anything; their link, in a
colleague's tab that was open on the profile, shows only the pseudonym."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from bench.browser import open_first_row
from tests.e2e.conftest import open_tab, search_lookup, sign_in, wait_for_app


def test_erase_then_look_up_finds_only_the_pseudonym(page: Page, browser: Browser,
                                                     app_url: str, app_database: Path) -> None:
    with sqlite3.connect(app_database) as connection:
        customer_id, first, last, email = connection.execute(
            "SELECT id, first_name, last_name, email FROM customer WHERE email IS NOT NULL "
            "AND deleted_at IS NULL AND first_name NOT LIKE '% %' ORDER BY id LIMIT 1"
        ).fetchone()
    name = f"{first} {last}"
    # A colleague has the profile open in another tab.
    other = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    sign_in(other, app_url, "manager")
    other.goto(f"{app_url}/customer?customer={customer_id}")
    wait_for_app(other)
    expect(other.get_by_role("heading", name=name)).to_be_visible()

    sign_in(page, app_url, "admin")
    grid = search_lookup(page, name)
    expect(grid).to_be_visible()
    open_first_row(page, grid)
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    wait_for_app(page)
    open_tab(page, "Privacy")
    confirm = page.get_by_role("textbox", name="To confirm, type the customer's e-mail")
    confirm.fill("not-their@address.org")
    erase = page.get_by_role("button", name="Erase this customer for good")
    erase.click()
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("exactly")
    expect(page.get_by_role("heading", name=name)).to_be_visible()  # nothing happened
    confirm.fill(email.upper())
    erase.click()
    wait_for_app(page)
    heading = page.get_by_role("heading", name="Erased customer #")
    expect(heading).to_be_visible()
    pseudonym = heading.inner_text().removeprefix("Erased customer ").strip()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(
        f"is now {pseudonym}")
    page.screenshot(path=str(app_database.parent / "erased.png"), full_page=True)

    for term in (name, email):
        search_lookup(page, term)
        expect(page.get_by_test_id("stAlertContentInfo")).to_contain_text("No customer matches")
    with sqlite3.connect(app_database) as connection:
        stored = connection.execute("SELECT first_name, last_name, email FROM customer "
                                    "WHERE id = ?", (customer_id,)).fetchone()
    assert stored == ("Erased", pseudonym, None)

    # The colleague's tab, reloaded or clicked, no longer shows the person.
    other.reload()
    wait_for_app(other)
    expect(other.get_by_role("heading", name=f"Erased customer {pseudonym}")).to_be_visible()
    expect(other.get_by_text(last)).to_have_count(0)
    other.context.close()
