"""Build a segment in the browser, save it, and download its export."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

from playwright.sync_api import Page, expect

from db.core.access import Actor
from db.core.engine import make_engine
from db.segments.definition import Condition, Group
from db.segments.service import save_segment
from tests.e2e.conftest import (
    choose,
    reaches_the_lock,
    sign_in,
    wait_for_app,
    writes_waiting,
)


def test_build_save_and_export(page: Page, app_url: str, app_database: Path) -> None:
    with sqlite3.connect(app_database) as connection:
        country, = connection.execute(
            "SELECT country FROM customer GROUP BY country ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        members, consented = connection.execute(
            "SELECT count(*), sum(s.consent_email_marketing) FROM customer c "
            "JOIN customer_summary s ON s.customer_id = c.id WHERE c.country = ?",
            (country,)).fetchone()
    sign_in(page, app_url, "marketing")
    page.get_by_test_id("stSidebar").get_by_role("link", name="Segments").click()
    wait_for_app(page)
    choose(page, "Value", country)
    members_metric = page.get_by_test_id("stMetric").filter(has_text="Members")
    members_shown = f"{members:,}"
    expect(members_metric).to_contain_text(members_shown)
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    page.screenshot(path=str(app_database.parent / "segment-builder.png"), full_page=True)

    page.get_by_role("textbox", name="Name").fill(f"Customers in {country}")
    page.get_by_role("button", name="Save segment").click()
    wait_for_app(page)
    saved_notice = f"Saved “Customers in {country}”."
    expect(page.get_by_text(saved_notice)).to_be_visible()

    page.get_by_test_id("stButtonGroup").get_by_text("Saved segments").click()
    wait_for_app(page)
    page.get_by_role("button", name="Prepare export").click()
    wait_for_app(page)
    with page.expect_download() as download_info:
        page.get_by_test_id("stDownloadButton").get_by_role("button").click()
    data = Path(download_info.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data)))
    assert len(rows) == consented
    assert {row["country"] for row in rows} == {country}


def test_a_double_click_on_delete_for_good_deletes_only_the_chosen_segment(
        page: Page, app_url: str, app_database: Path) -> None:
    """The button once had one key for every segment: after the first click deleted the
    chosen one, the list showed the next, and the second click deleted that one too. The
    database's write lock held from here makes the first delete wait for the second click."""
    engine = make_engine(f"sqlite:///{app_database}")
    marketing = Actor("marketing", "marketing")
    for name in ("AAA delete me", "AAB keep me"):
        save_segment(marketing, name=name, description=None, kind="dynamic",
                     definition=Group(children=[Condition(field="country", op="in",
                                                          value=["DE"])]), engine=engine)
    engine.dispose()
    sign_in(page, app_url, "marketing")
    page.get_by_test_id("stSidebar").get_by_role("link", name="Segments").click()
    wait_for_app(page)
    page.get_by_test_id("stButtonGroup").get_by_text("Saved segments").click()
    wait_for_app(page)
    choose(page, "Segment", "AAA delete me")
    wait_for_app(page)
    page.get_by_role("button", name="Delete").click()
    with writes_waiting(page, app_database):
        page.get_by_role("button", name="Delete for good").click()
        reaches_the_lock(page)  # the first delete now waits for the lock
        page.get_by_role("button", name="Delete for good").click()
        page.wait_for_timeout(2_000)  # the next click reaches the server meanwhile
    with sqlite3.connect(app_database) as connection:
        names = {name for (name,) in connection.execute("SELECT name FROM segment")}
    assert "AAA delete me" not in names
    assert "AAB keep me" in names


def test_a_save_clicked_while_the_last_one_waits_is_not_a_conflict(
        page: Page, app_url: str, app_database: Path) -> None:
    """The second "Save changes" click stopped the first one's run right after its commit,
    before the page noted the new version: that save was refused as someone else's. Holding
    the database's write lock makes the first save wait, so the second click always comes
    while it runs."""
    sign_in(page, app_url, "marketing")
    page.get_by_test_id("stSidebar").get_by_role("link", name="Segments").click()
    wait_for_app(page)
    choose(page, "Value", "DE")
    page.get_by_role("textbox", name="Name").fill("Saved while waiting")
    page.get_by_role("button", name="Save segment").click()
    wait_for_app(page)
    expect(page.get_by_text("Saved “Saved while waiting”.")).to_be_visible()
    with writes_waiting(page, app_database):
        page.get_by_role("textbox", name="Description").fill("first")
        page.get_by_role("button", name="Save changes").click()
        reaches_the_lock(page)  # the first save now waits for the lock
        page.get_by_role("button", name="Save changes").last.click()
        page.wait_for_timeout(2_000)  # the next click reaches the server meanwhile
    expect(page.get_by_text("after you opened it")).to_have_count(0)
    expect(page.get_by_text("Saved “Saved while waiting”.")).to_be_visible()
    with sqlite3.connect(app_database) as connection:
        (stored,) = connection.execute(
            "SELECT description FROM segment WHERE name = 'Saved while waiting'").fetchone()
    assert stored == "first"
