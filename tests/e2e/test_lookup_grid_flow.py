"""Someone saves a customer while another person has a new value typed for it in the
Lookup grid: the grid's save is refused with what the first saved, keeps what was typed,
and goes through when saved again; nothing is overwritten unseen."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from db.core.access import Actor
from db.core.engine import make_engine
from db.customers.service import get_customer, update_customer
from tests.e2e.conftest import search_lookup, sign_in, wait_for_app

MANAGER = Actor("manager", "manager")
CITY_COLUMN = 3  # Id, Name, Status, City, …: arrow presses from the first cell
ROW_HEIGHT = 35  # the grid's header and rows, in pixels


def _grid(page: Page) -> Locator:
    """The editor of "Edit these customers", opened."""
    page.get_by_text("Edit these customers").click()
    wait_for_app(page)
    editor = page.get_by_test_id("stDataFrame").nth(1)
    expect(editor).to_be_visible()
    return editor


def _type_city(page: Page, editor: Locator, city: str) -> None:
    """Type ``city`` into the first row's City cell, as a user does: select the row's first
    cell, move right to City, start typing (which opens the cell's editor), press Enter.
    A grid still being drawn can miss the first key, or redraw and drop the edit, so the
    typing is done again until the grid shows the city. The grid takes keys only in the
    browser's page in front."""
    page.bring_to_front()
    wait_for_app(page)
    overlay = page.locator("[id^='gdg-overlay']")
    for _ in range(5):
        editor.scroll_into_view_if_needed()
        box = editor.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 30, box["y"] + ROW_HEIGHT + ROW_HEIGHT // 2)
        page.wait_for_timeout(300)  # arrows pressed before the grid took the click are lost
        for _ in range(CITY_COLUMN):
            page.keyboard.press("ArrowRight", delay=50)
        page.keyboard.type("x")
        try:
            expect(overlay).to_have_count(1, timeout=3_000)
        except AssertionError:
            page.keyboard.press("Escape")
            continue
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(city)
        page.keyboard.press("Enter")
        expect(overlay).to_have_count(0)
        page.keyboard.press("Escape")
        wait_for_app(page)  # the edit's own run, before any click
        try:
            expect(editor).to_contain_text(city, timeout=5_000)
            return
        except AssertionError:
            continue
    expect(editor).to_contain_text(city)


def _save(page: Page) -> None:
    page.get_by_role("button", name="Save edited rows").click()
    wait_for_app(page)


def _stored_city(database: Path, customer_id: int) -> str:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT city FROM customer WHERE id = ?",
                                  (customer_id,)).fetchone()[0]


def test_a_grid_save_over_someone_elses_save_is_refused_then_kept(
        page: Page, app_url: str, app_database: Path) -> None:
    """The other person saves through the service, as their own browser would: two browsers
    typing into grids in turn lost keys to the one not in front on a loaded machine."""
    with sqlite3.connect(app_database) as connection:
        customer_id, email = connection.execute(
            "SELECT id, email FROM customer WHERE email IS NOT NULL ORDER BY id LIMIT 1"
        ).fetchone()
    page.set_viewport_size({"width": 1400, "height": 1200})
    sign_in(page, app_url, "admin")
    search_lookup(page, email)
    grid = _grid(page)
    _type_city(page, grid, "Bonn")  # typed, not saved yet
    engine = make_engine(f"sqlite:///{app_database}")
    seen = get_customer(MANAGER, customer_id, engine=engine)
    update_customer(MANAGER, customer_id, seen.version, {"city": "Köln"}, engine=engine)

    _save(page)
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text(
        "These rows were not saved")
    refusal = page.get_by_test_id("stDataFrame").last
    expect(refusal).to_contain_text("manager saved this customer after the list was shown")
    expect(refusal).to_contain_text("city is now Köln")
    assert _stored_city(app_database, customer_id) == "Köln"
    expect(grid).to_contain_text("Bonn")  # what was typed is still there

    _save(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_have_text("Saved 1 customer.")
    assert _stored_city(app_database, customer_id) == "Bonn"
