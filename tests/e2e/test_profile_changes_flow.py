"""The profile's daily changes in Chromium: a contact logged with a fast double click is
logged once and the form empties, then is corrected and deleted; a customer is deleted only
after confirming, and an admin restores them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import choose, open_tab, sign_in, wait_for_app


def _customer(app_database: Path, offset: int) -> tuple[int, str]:
    with sqlite3.connect(app_database) as connection:
        customer_id, first, last = connection.execute(
            "SELECT id, first_name, last_name FROM customer WHERE deleted_at IS NULL "
            "ORDER BY id LIMIT 1 OFFSET ?", (offset,)).fetchone()
    return customer_id, f"{first} {last}"


def _subjects(app_database: Path, customer_id: int, subject: str) -> int:
    with sqlite3.connect(app_database) as connection:
        return connection.execute("SELECT count(*) FROM interaction WHERE customer_id = ? "
                                  "AND subject = ?", (customer_id, subject)).fetchone()[0]


def test_a_double_click_logs_one_contact_and_empties_the_form(page: Page, app_url: str,
                                                              app_database: Path) -> None:
    customer_id, _ = _customer(app_database, 0)
    sign_in(page, app_url, "manager")
    page.goto(f"{app_url}/customer?customer={customer_id}")
    wait_for_app(page)
    open_tab(page, "Interactions")
    subject = page.get_by_role("textbox", name="Subject")
    log = page.get_by_role("button", name="Log interaction")
    for text, clicks in (("Double-clicked call", log.dblclick),
                         # While the first click's run draws, the old form can still be
                         # on the page beside the new one: the click takes the first.
                         ("Clicked twice while saving", lambda: (
                             log.click(), page.wait_for_timeout(150), log.first.click()))):
        subject.fill(text)
        page.get_by_role("textbox", name="Summary").fill("Parcel late")
        clicks()
        wait_for_app(page)
        expect(page.get_by_test_id("stDataFrame").first).to_contain_text(text)
        assert _subjects(app_database, customer_id, text) == 1
        expect(subject).to_have_value("")
        expect(page.get_by_role("textbox", name="Summary")).to_have_value("")
        # A second click that lands on the emptied form is not taken for a new, empty one.
        expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    page.screenshot(path=str(app_database.parent / "logged.png"), full_page=True)
    page.wait_for_timeout(5_000)
    log.click()  # a later click on the empty form asks for a subject
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("A subject is required")
    assert _subjects(app_database, customer_id, "Clicked twice while saving") == 1

    # The author corrects the contact; it stays chosen under its new subject, then goes.
    choose(page, "Correct or delete an interaction", "20")
    page.get_by_role("textbox", name="Subject").last.fill("Corrected call")
    page.get_by_role("button", name="Save correction").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text("Corrected call")
    page.get_by_role("button", name="Delete this interaction…").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentWarning")).to_contain_text("Corrected call")
    page.get_by_role("button", name="Yes, delete it").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stDataFrame").first).not_to_contain_text("Corrected call")
    assert _subjects(app_database, customer_id, "Corrected call") == 0


def test_delete_asks_first_and_an_admin_restores(page: Page, app_url: str,
                                                 app_database: Path) -> None:
    customer_id, name = _customer(app_database, 1)
    sign_in(page, app_url, "admin")
    page.goto(f"{app_url}/customer?customer={customer_id}")
    wait_for_app(page)
    page.get_by_text("Delete this customer").click()
    page.get_by_role("button", name="Delete customer…").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentWarning")).to_contain_text(
        f"Delete {name} (#{customer_id})?")
    page.screenshot(path=str(app_database.parent / "delete-asks.png"), full_page=True)
    page.get_by_role("button", name="Yes, delete this customer").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name=f"{name} (deleted)")).to_be_visible()
    # The profile drawn before the delete leaves the page when the deleted one's run ends.
    expect(page.get_by_test_id("stExpanderDetails")).to_have_count(0, timeout=30_000)
    expect(page.get_by_test_id("stAlertContentWarning")).to_contain_text("UTC by admin.")
    expect(page.get_by_role("textbox", name="City")).to_have_count(0)
    page.screenshot(path=str(app_database.parent / "deleted-profile.png"), full_page=True)

    page.get_by_test_id("stSidebar").get_by_role("link", name="Deleted customers").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stDataFrame")).to_contain_text(name)
    choose(page, "Customer to restore", f"{name} (#{customer_id})")
    page.get_by_role("button", name="Restore", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(
        f"Restored {name} (#{customer_id})")
    page.screenshot(path=str(app_database.parent / "restored.png"), full_page=True)
    page.get_by_test_id("stSidebar").get_by_role("link", name="Lookup").click()
    wait_for_app(page)
    page.get_by_role("textbox", name="Search").fill(name)
    page.keyboard.press("Enter")
    wait_for_app(page)
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text(name)
