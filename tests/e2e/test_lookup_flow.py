"""Sign in, search (again and again), open the profile, change the city, see it in History."""

from __future__ import annotations

import csv
import re
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect

from bench.browser import open_first_row
from db.core.access import Actor
from db.core.engine import make_engine
from db.customers.service import create_customer
from tests.e2e.conftest import open_tab, search_lookup, sign_in, wait_for_app


def test_typo_search_profile_edit_and_history(page: Page, app_url: str,
                                              app_database: Path) -> None:
    with sqlite3.connect(app_database) as connection:
        first, last = connection.execute(
            "SELECT first_name, last_name FROM customer WHERE length(last_name) >= 5 "
            "AND first_name NOT LIKE '% %' ORDER BY id LIMIT 1").fetchone()
    typo = f"{first} {last[0]}{last[2]}{last[1]}{last[3:]}"  # two letters swapped
    sign_in(page, app_url, "manager")
    grid = search_lookup(page, typo)
    expect(grid).to_be_visible()
    open_first_row(page, grid)
    expect(page.get_by_role("heading", name=f"{first} {last}")).to_be_visible()
    wait_for_app(page)

    city = page.get_by_role("textbox", name="City")
    city.fill("Testville")
    page.get_by_role("button", name="Save changes").click()
    wait_for_app(page)
    expect(page.get_by_role("textbox", name="City")).to_have_value("Testville")
    open_tab(page, "History")
    history = page.get_by_test_id("stDataFrame").last
    expect(history).to_contain_text("Testville")
    expect(history).to_contain_text("manager")


def test_markup_in_a_name_is_shown_as_text(page: Page, app_url: str,
                                          app_database: Path) -> None:
    hostile = create_customer(
        Actor("e2e", "admin"),
        {"first_name": "<img src=x onerror=alert(1)>", "last_name": "[x](http://e.vil)",
         "country": "GB"}, engine=make_engine(f"sqlite:///{app_database}"))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, app_url, "manager")
    page.goto(f"{app_url}/customer?customer={hostile.id}")
    wait_for_app(page)
    heading = page.get_by_role("heading").filter(has_text="img src")
    expect(heading).to_contain_text("<img src=x onerror=alert(1)>")
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("a[href='http://e.vil']").count() == 0
    page.get_by_role("link", name="Lookup").click()
    wait_for_app(page)
    page.get_by_role("textbox", name="Search").fill("onerror")
    page.keyboard.press("Enter")
    wait_for_app(page)
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text("<img src=x")
    assert page.locator("img[src='x']").count() == 0
    assert dialogs == []


def _distinct_surnames(app_database: Path, count: int) -> list[str]:
    with sqlite3.connect(app_database) as connection:
        return [row[0] for row in connection.execute(
            "SELECT last_name FROM customer WHERE length(last_name) >= 5 AND last_name "
            "NOT LIKE '% %' GROUP BY last_name HAVING count(*) = 1 ORDER BY min(id) LIMIT ?",
            (count,))]


def test_every_search_in_a_row_shows_its_own_results_and_link(page: Page, app_url: str,
                                                              app_database: Path) -> None:
    surnames = _distinct_surnames(app_database, 5)
    sign_in(page, app_url, "marketing")
    page.get_by_test_id("stSidebar").get_by_role("link", name="Lookup").click()
    wait_for_app(page)
    box = page.get_by_role("textbox", name="Search")
    for surname in surnames:
        box.fill(surname)
        box.press("Enter")
        wait_for_app(page)
        expect(box).to_have_value(surname)
        expect(page.get_by_test_id("stDataFrame").first).to_contain_text(surname)
        assert parse_qs(urlparse(page.url).query)["q"] == [surname]
    page.go_back()  # the back button returns to the search before
    wait_for_app(page)
    expect(box).to_have_value(surnames[-2])
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text(surnames[-2])
    # A shared link fills the box.
    page.goto(f"{app_url}/lookup?q={surnames[0]}")
    wait_for_app(page)
    expect(page.get_by_role("textbox", name="Search")).to_have_value(surnames[0])
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text(surnames[0])
    expect(page.get_by_text("Showing 1 of 1", exact=True)).to_be_visible()


def test_lookup_counts_every_customer_and_pages(page: Page, app_url: str,
                                               app_database: Path) -> None:
    with sqlite3.connect(app_database) as connection:
        (live,) = connection.execute(
            "SELECT count(*) FROM customer WHERE deleted_at IS NULL").fetchone()
    sign_in(page, app_url, "manager")
    page.goto(f"{app_url}/lookup")
    wait_for_app(page)
    expect(page.get_by_text("Showing 1–50 of " + str(live), exact=True)).to_be_visible()
    page.get_by_role("button", name="Next").click()
    wait_for_app(page)
    expect(page.get_by_text("Showing 51–100 of " + str(live), exact=True)).to_be_visible()
    page.get_by_role("button", name="Previous").click()
    wait_for_app(page)
    expect(page.get_by_text("Showing 1–50 of " + str(live), exact=True)).to_be_visible()


def test_marketing_downloads_only_consented_results(page: Page, app_url: str) -> None:
    sign_in(page, app_url, "marketing")
    page.goto(f"{app_url}/lookup?q=example.org")
    wait_for_app(page)
    page.get_by_text("Export these results").click()
    page.get_by_role("button", name="Prepare export").click()
    wait_for_app(page)
    note = page.get_by_text("results have e-mail marketing consent; only they are in the file.")
    expect(note).to_be_visible()
    with page.expect_download() as download:
        page.get_by_test_id("stDownloadButton").get_by_role("button").click()
    with open(download.value.path(), encoding="utf-8-sig", newline="") as exported:
        rows = list(csv.DictReader(exported))
    assert rows and {row["email_consent"] for row in rows} == {"True"}
    assert note.inner_text().startswith(f"{len(rows)} of ")


def test_back_from_a_profile_returns_to_the_search(page: Page, app_url: str,
                                                   app_database: Path) -> None:
    """One press of the browser's Back from a profile opened from the results shows the
    search again (Streamlit leaves a step without ?q= before the profile)."""
    surname = _distinct_surnames(app_database, 1)[0]
    sign_in(page, app_url, "manager")
    grid = search_lookup(page, surname)
    open_first_row(page, grid)
    expect(page).to_have_url(re.compile(r"/customer\?customer=\d+$"))
    wait_for_app(page)
    page.go_back()
    wait_for_app(page)
    expect(page.get_by_role("textbox", name="Search")).to_have_value(surname)
    assert parse_qs(urlparse(page.url).query).get("q") == [surname]
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text(surname)
