"""The import wizard in Chromium: an admin uploads a German CRM export (Latin-1, semicolons)
through the browser's file input, maps, checks and imports it with a double click, and finds
an imported customer through Lookup."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import search_lookup, sign_in, wait_for_app

CSV = ("Kundennummer;Anrede;Vorname;Nachname;E-Mail;PLZ;Ort;Land\n"
       "E2E-1;Herr;Jürgen;Quellbrunn;juergen.quellbrunn@example.de;50667;Köln;DE\n"
       "E2E-2;Frau;Anneliese;Größwald;anneliese.groesswald@example.de;80331;München;DE\n"
       "E2E-3;Frau;Bea;Broken;bea(at)example.de;10115;Berlin;DE\n")


def _step(page: Page, key: str) -> None:
    """Click the button with ``key`` and wait until the rerun it starts has finished and
    the button's step has left the page (a stale copy is still there while it runs)."""
    button = page.locator(f".st-key-{key} button")
    button.click()
    wait_for_app(page)
    expect(page.locator(f".st-key-{key}")).to_have_count(0)


def _imported(app_database: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(app_database) as connection:
        return sorted(connection.execute(
            "SELECT external_ref, first_name, city FROM customer WHERE external_ref LIKE "
            "'E2E-%'").fetchall())


def test_an_admin_imports_a_file_and_finds_a_customer_in_lookup(
        page: Page, app_url: str, app_database: Path, tmp_path: Path) -> None:
    upload = tmp_path / "crm-export.csv"
    upload.write_bytes(CSV.encode("latin-1"))
    sign_in(page, app_url, "admin")
    page.get_by_test_id("stSidebar").get_by_role("link", name="Import data").click()
    wait_for_app(page)
    expect(page.get_by_text("up to 250 MB")).to_be_visible()
    page.locator(".st-key-imp_upload input[type=file]").set_input_files(str(upload))
    expect(page.get_by_text("Windows-1252")).to_be_visible()
    wait_for_app(page)
    expect(page.get_by_text("3 data rows")).to_be_visible()

    _step(page, "imp_to_map")
    expect(page.locator(".st-key-imp_map_email").get_by_role("combobox")).to_have_value("E-Mail")
    expect(page.get_by_test_id("stDataFrame")).to_contain_text("Größwald")
    _step(page, "imp_check")
    expect(page.get_by_text("Nothing has been written yet")).to_be_visible()
    metrics = page.get_by_test_id("stMetric")
    expect(metrics.filter(has_text="New")).to_contain_text("2")
    expect(metrics.filter(has_text="Rejected")).to_contain_text("1")
    expect(page.get_by_test_id("stDataFrame")).to_contain_text("bea(at)example.de")
    with page.expect_download() as download:
        page.locator(".st-key-imp_rejects button").click()
    assert "bea(at)example.de" in Path(download.value.path()).read_text("utf-8-sig")
    assert _imported(app_database) == []  # the check wrote nothing

    _step(page, "imp_to_commit")
    commit = page.locator(".st-key-imp_commit button")
    expect(commit).to_contain_text("Import 2 rows")
    commit.dblclick()
    wait_for_app(page)
    expect(page.get_by_text("is committed")).to_be_visible()
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    assert _imported(app_database) == [("E2E-1", "Jürgen", "Köln"),
                                       ("E2E-2", "Anneliese", "München")]
    with sqlite3.connect(app_database) as connection:
        assert connection.execute("SELECT count(*) FROM import_run").fetchone() == (1,)

    grid = search_lookup(page, "Quellbrunn")
    expect(grid).to_contain_text("Jürgen")
    expect(grid).to_contain_text("Köln")
