"""An admin changes a record; the change is found on the Audit page, old → new."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import choose, sign_in, wait_for_app


def test_a_role_change_shows_up_in_the_audit_trail(page: Page, app_url: str) -> None:
    sign_in(page, app_url, "admin")
    page.get_by_test_id("stSidebar").get_by_role("link", name="Users").click()
    wait_for_app(page)
    choose(page, "User", "marketing")
    form = page.get_by_test_id("stForm").filter(has_text="Save changes")
    combo = form.get_by_role("combobox")
    combo.click()
    combo.fill("manager")
    page.get_by_role("option").filter(has_text="manager").first.click()
    expect(page.get_by_role("listbox")).to_have_count(0)  # the list has closed
    form.get_by_role("button", name="Save changes").click()
    wait_for_app(page)

    page.get_by_test_id("stSidebar").get_by_role("link", name="Audit trail").click()
    wait_for_app(page)
    choose(page, "Action", "user.update")
    choose(page, "Show the changes of event", "user.update")
    detail = page.get_by_test_id("stDataFrame").last
    expect(detail).to_contain_text("role")
    expect(detail).to_contain_text("marketing")
    expect(detail).to_contain_text("manager")
    expect(page.get_by_text("by admin · via form")).to_be_visible()
