"""One merge in Chromium: a manager finds the duplicates, picks a planted pair, keeps the
other record's surname and merges; the merged record's old link then opens the survivor, and
lookup finds one person."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from playwright.sync_api import Page, expect

from db.core.access import Actor
from db.core.engine import make_engine
from db.customers.service import create_customer
from db.search.ranking import search_customers
from tests.e2e.conftest import choose, search_lookup, sign_in, wait_for_app


def test_find_and_merge_one_pair(page: Page, app_url: str, app_database: Path) -> None:
    engine = make_engine(f"sqlite:///{app_database}")
    made = [create_customer(Actor("e2e", "admin"), {
        "first_name": "Quentin", "last_name": last, "country": "DE", "phone": phone,
        "postcode": "10115"}, engine=engine, confirm=True)
        for last, phone in (("Zabrowski", "+4930901829999"), ("Zabrowsky", "030 901829999"))]
    engine.dispose()
    survivor, merged = (customer.id for customer in made)

    sign_in(page, app_url, "manager")
    page.get_by_test_id("stSidebar").get_by_role("link", name="Duplicates").click()
    wait_for_app(page)
    page.get_by_role("button", name="Find duplicates now").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(" to review")
    choose(page, "Pair to review", f"#{survivor} Quentin Zabrowski")
    merge_label = f"Merge into #{survivor}"
    expect(page.get_by_text(merge_label)).to_be_visible()
    page.get_by_test_id("stRadio").filter(has_text="Last name").get_by_text(
        "Zabrowsky").click()
    wait_for_app(page)
    page.get_by_role("button", name=merge_label).click()
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentSuccess").first).to_contain_text(
        f"Merged #{merged} into #{survivor}")
    page.screenshot(path=str(app_database.parent / "merged.png"), full_page=True)
    with sqlite3.connect(app_database) as connection:
        pointer, = connection.execute("SELECT merged_into_id FROM customer WHERE id = ?",
                                      (merged,)).fetchone()
        surname, = connection.execute("SELECT last_name FROM customer WHERE id = ?",
                                      (survivor,)).fetchone()
    assert (pointer, surname) == (survivor, "Zabrowsky")

    page.goto(f"{app_url}/customer?customer={merged}")  # the old link
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Quentin Zabrowsky")).to_be_visible()
    assert f"customer={survivor}" in page.url
    grid = search_lookup(page, "Quentin Zabrow")
    expect(grid).to_contain_text(str(survivor))
    engine = make_engine(f"sqlite:///{app_database}")
    found = search_customers(Actor("e2e", "manager"), "Quentin Zabrow", engine=engine)
    engine.dispose()
    assert [hit.customer.id for hit in found.hits] == [survivor]  # one person left
