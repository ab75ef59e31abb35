"""The import wizard through the real app: upload → map → check → import, on both engines.

AppTest 1.67 drives ``st.file_uploader`` itself (``set_value`` with a name and bytes), so the
upload is the real widget's; the Chromium test (tests/e2e/test_import_flow.py) uploads through
the browser's file input."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.core.engine import DatabaseBusy, read_session
from db.imports.models import ImportRun
from db.imports.rows import Options
from db.imports.saved import list_mappings, save_mapping
from db.models import ConsentEvent, Customer, User
from tests.factories import ADMIN
from tests.pages.conftest import ROOT

IMPORTS = str(ROOT / "pages" / "imports.py")
MESSY = ("Kundennummer;Vorname;Nachname;E-Mail;Land;Ort\n"
         "K-1;Jürgen;Müller;juergen@example.de;DE;Köln\n"
         "K-2;Anna;Groß;ANNA@example.de;Deutschland;Düsseldorf\n"
         "K-3;Bob;Jones;not-an-email;GB;London\n"
         "K-4;Anna;Groß;anna@example.de;DE;Bonn\n"
         "K-5;Zoë;Weiß;;AT;Wien\n").encode("latin-1")


def _open(signed_in: Callable[[str], AppTest], role: str = "admin") -> AppTest:
    at = signed_in(role)
    at.switch_page(IMPORTS).run()
    _fine(at)
    return at


def _fine(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def _upload(at: AppTest, name: str, data: bytes, kind: str = "customers") -> AppTest:
    at.radio(key="imp_kind").set_value(kind).run()
    at.file_uploader(key="imp_upload").set_value((name, data, "text/csv")).run()
    return at


def _shown(markdown: str) -> str:
    """Text as the reader sees it: without the backslashes that keep it from being Markdown."""
    return re.sub(r"\\(.)", r"\1", markdown)


def _texts(at: AppTest) -> str:
    return _shown("\n".join([t.value for t in at.text] + [c.value for c in at.caption]
                            + [w.value for w in at.warning] + [s.value for s in at.success]))


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_admin_imports_a_messy_file_and_the_customers_exist(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    at = _open(signed_in)
    assert "up to 250 MB" in _texts(at)
    _upload(at, "kunden.csv", MESSY)
    _fine(at)
    shown = _texts(at)
    assert "Windows-1252" in shown and "semicolons" in shown and "5 data rows" in shown
    assert "Kundennummer | Vorname | Nachname | E-Mail | Land | Ort" in shown
    at.button(key="imp_to_map").click().run()
    _fine(at)
    assert at.selectbox(key="imp_map_email").value == "E-Mail"  # suggested
    assert at.selectbox(key="imp_map_first_name").value == "Vorname"
    [preview] = at.dataframe
    assert list(preview.value.columns)[:3] == ["Line", "Customer number", "First name"]
    assert preview.value["First name"].tolist()[0] == "Jürgen"
    assert not at.button(key="imp_check").disabled
    at.button(key="imp_check").click().run()
    _fine(at)
    assert "Nothing has been written yet" in _texts(at)
    assert _metrics(at) == {"New": "3", "Updated": "0", "Unchanged": "0", "Rejected": "2"}
    duplicates, rejects = at.dataframe
    assert duplicates.value.to_dict("records") == [{"Key": "anna@example.de", "Lines": "3, 5"}]
    assert rejects.value["Line"].tolist() == [4, 5]
    assert "not a valid email" in rejects.value["Reason"].tolist()[0]
    assert rejects.value["Nachname"].tolist()[0] == "Jones"  # the original cells
    [download] = at.get("download_button")
    assert download.proto.label == "Download the rejected rows (CSV)"
    with read_session(app_db) as session:  # the check wrote nothing
        assert session.exec(select(Customer)).all() == []

    at.button(key="imp_to_commit").click().run()
    _fine(at)
    assert at.button(key="imp_commit").label == "Import 3 rows"
    at.button(key="imp_commit").click().run()
    _fine(at)
    assert at.success[0].value.startswith("Import ") and "is committed" in at.success[0].value
    assert _metrics(at)["New"] == "3"
    assert not [b for b in at.button if b.key == "imp_commit"]  # nothing left to click twice
    at.run()  # a rerun (or a second click arriving late) imports nothing more
    with read_session(app_db) as session:
        names = sorted(f"{c.first_name} {c.last_name}" for c in session.exec(select(Customer)))
        runs = session.exec(select(ImportRun)).all()
    assert names == ["Anna Groß", "Jürgen Müller", "Zoë Weiß"]
    assert len(runs) == 1 and runs[0].file_name == "kunden.csv"


def test_the_rejects_download_holds_the_bad_row(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    at = _open(signed_in)
    _upload(at, "kunden.csv", MESSY)
    at.button(key="imp_to_map").click().run()
    at.button(key="imp_check").click().run()
    _fine(at)
    # The download's bytes: what the page handed to the button (the outcome it keeps).
    outcome = at.session_state["imp_checked"][1]
    table = next(iter(at.session_state["imp_tables"].values()))
    rows = list(csv.reader(io.StringIO(outcome.rejects_file(table.columns)
                                       .decode("utf-8-sig"))))
    assert rows[0][:3] == ["line", "reason", "Kundennummer"]
    assert rows[1][0] == "4" and "not-an-email" in rows[1]


@pytest.mark.parametrize("role", ["manager", "marketing"])
def test_other_roles_are_refused(signed_in: Callable[[str], AppTest], role: str) -> None:
    at = signed_in(role)
    at.switch_page(IMPORTS).run()
    assert [e.value for e in at.error] == [
        f"Your role ({role}) does not give access to Import data. Ask an admin if you need it."]
    assert not at.get("file_uploader")


@pytest.mark.parametrize(("name", "data", "message"), [
    ("empty.csv", b"", "The file is empty."),
    ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
     "binary file"),
    ("header.csv", b"Vorname;Nachname;Land\n", "header row but no data rows"),
])
def test_an_unreadable_file_says_why_and_the_uploader_stays(
        signed_in: Callable[[str], AppTest], name: str, data: bytes, message: str) -> None:
    at = _open(signed_in)
    _upload(at, name, data)
    assert not at.exception
    [error] = at.error
    assert message in _shown(error.value)
    assert at.get("file_uploader") and not [b for b in at.button if b.key == "imp_to_map"]
    _upload(at, "kunden.csv", MESSY)  # another file replaces it
    _fine(at)
    assert [b for b in at.button if b.key == "imp_to_map"]


def test_a_missing_required_field_keeps_check_disabled_and_is_named(
        signed_in: Callable[[str], AppTest]) -> None:
    at = _open(signed_in)
    _upload(at, "kunden.csv", MESSY)
    at.button(key="imp_to_map").click().run()
    at.selectbox(key="imp_map_last_name").set_value("").run()
    _fine(at)
    assert at.button(key="imp_check").disabled
    assert "Map a column to: Last name." in _texts(at)
    at.selectbox(key="imp_map_last_name").set_value("Nachname").run()
    assert not at.button(key="imp_check").disabled and not at.warning


def test_ambiguous_dates_ask_for_the_order(signed_in: Callable[[str], AppTest]) -> None:
    data = (b"Order,Customer ID,Date,Total\n"
            b"1001,C-1,03/05/2024,10.00\n1002,C-1,04/06/2024,12.50\n")
    at = _open(signed_in)
    _upload(at, "orders.csv", data, kind="orders")
    at.button(key="imp_to_map").click().run()
    _fine(at)
    assert at.button(key="imp_check").disabled
    assert "03/05/2024, could be day/month or month/day" in _texts(at)
    at.radio(key="imp_dates").set_value("day").run()
    at.checkbox(key="imp_create").check().run()
    at.text_input(key="imp_country").input("DE").run()
    _fine(at)
    at.button(key="imp_check").click().run()
    _fine(at)
    assert _metrics(at) == {"New": "2", "Updated": "0", "Unchanged": "0", "Rejected": "0",
                            "Customers to create": "1"}


def test_a_saved_mapping_round_trips_through_the_page(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    at = _open(signed_in)
    _upload(at, "kunden.csv", MESSY)
    at.button(key="imp_to_map").click().run()
    at.selectbox(key="imp_map_city").set_value("").run()  # not wanted this time
    at.radio(key="imp_mode").set_value("create_only").run()
    at.text_input(key="imp_save_name").input("CRM export").run()
    at.button(key="imp_save").click().run()
    _fine(at)
    assert "Saved the mapping “CRM export”." in _texts(at)
    [saved] = list_mappings(ADMIN, "customers", engine=app_db)
    assert saved.name == "CRM export" and "city" not in saved.mapping
    assert saved.options.mode == "create_only"

    save_mapping(ADMIN, "customers", "Other shop", {"first_name": "Given", "city": "Ort"},
                 Options(), engine=app_db)
    fresh = _open(signed_in)  # a new session, as next month
    _upload(fresh, "kunden.csv", MESSY)
    fresh.button(key="imp_to_map").click().run()
    assert fresh.selectbox(key="imp_map_city").value == "Ort"  # the suggestion
    assert fresh.radio(key="imp_mode").value == "create_and_update"
    fresh.selectbox(key="imp_saved").set_value("CRM export").run()
    fresh.button(key="imp_use_saved").click().run()
    _fine(fresh)
    assert fresh.selectbox(key="imp_map_city").value == ""
    assert fresh.radio(key="imp_mode").value == "create_only"
    fresh.selectbox(key="imp_saved").set_value("Other shop").run()
    fresh.button(key="imp_use_saved").click().run()
    assert "This file has no column “Given”" in _shown(fresh.error[0].value)
    assert fresh.selectbox(key="imp_map_first_name").value == ""
    fresh.button(key="imp_delete_saved").click().run()
    assert [m.name for m in list_mappings(ADMIN, "customers", engine=app_db)] == ["CRM export"]


def test_choices_survive_a_step_back_and_a_new_file_starts_afresh(
        signed_in: Callable[[str], AppTest]) -> None:
    at = _open(signed_in)
    _upload(at, "kunden.csv", MESSY)
    at.button(key="imp_to_map").click().run()
    at.selectbox(key="imp_map_city").set_value("").run()
    at.button(key="imp_back_1").click().run()
    _fine(at)
    assert "Current file: kunden.csv" in _texts(at)
    at.button(key="imp_to_map").click().run()
    assert at.selectbox(key="imp_map_city").value == ""  # kept while away
    at.button(key="imp_back_1").click().run()
    _upload(at, "other.csv", MESSY.replace(b"Ort", b"Stadt"))
    at.button(key="imp_to_map").click().run()
    assert at.selectbox(key="imp_map_city").value == "Stadt"  # suggested for the new file
    at.button(key="imp_back_1").click().run()
    _upload(at, "other.csv", MESSY)
    at.file_uploader(key="imp_upload").set_value(None).run()  # the user removes it
    _fine(at)
    assert "Current file" not in _texts(at) and not [b for b in at.button
                                                      if b.key == "imp_to_map"]


def test_a_busy_database_at_import_loses_nothing_and_the_import_can_be_repeated(
        signed_in: Callable[[str], AppTest], app_db: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from db.imports import engine as imports

    real_commit = imports.commit

    def busy(*args: object, **kwargs: object) -> None:
        raise DatabaseBusy("The database is busy (other changes are being saved); nothing "
                           "was saved. Try again in a moment.")
    at = _open(signed_in)
    _upload(at, "kunden.csv", MESSY)
    at.button(key="imp_to_map").click().run()
    at.button(key="imp_check").click().run()
    at.button(key="imp_to_commit").click().run()
    monkeypatch.setattr(imports, "commit", busy)
    at.button(key="imp_commit").click().run()
    assert not at.exception
    assert "The database is busy" in _shown(at.error[0].value)
    assert "Nothing was written" in _texts(at)
    assert at.button(key="imp_commit").label == "Import 3 rows"  # still there, choices kept
    monkeypatch.setattr(imports, "commit", real_commit)
    at.button(key="imp_commit").click().run()
    _fine(at)
    assert "is committed" in at.success[0].value
    with read_session(app_db) as session:
        assert len(session.exec(select(Customer)).all()) == 3


def test_a_customer_list_without_countries_takes_the_country_chosen_for_new_customers(
        signed_in: Callable[[str], AppTest]) -> None:
    at = _open(signed_in)
    _upload(at, "liste.csv", b"first name,last name,email\nAnna,Berg,anna@example.org\n")
    at.button(key="imp_to_map").click().run()
    assert at.button(key="imp_check").disabled
    assert "Map a column to: Country." in _texts(at)
    at.text_input(key="imp_country").set_value("Deutschland").run()
    _fine(at)
    assert not at.button(key="imp_check").disabled


CONSENTING = ("Kundennummer;Vorname;Nachname;E-Mail;Land;Einwilligung Newsletter\n"
              "K-1;Jürgen;Müller;juergen@example.de;DE;ja\n"
              "K-2;Anna;Groß;anna@example.de;DE;\n").encode()


def test_consent_columns_ask_for_the_notice_version_before_the_check(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    at = _open(signed_in)
    _upload(at, "kunden.csv", CONSENTING)
    at.button(key="imp_to_map").click().run()
    _fine(at)
    assert at.selectbox(key="imp_map_consent_email_marketing").value == "Einwilligung Newsletter"
    assert at.button(key="imp_check").disabled
    assert "Name the privacy notice version the consent columns" in _texts(at)
    at.text_input(key="imp_notice_version").input("x" * 5 + "\x07").run()  # a control char
    assert at.button(key="imp_check").disabled
    assert "Privacy notice version: 1 to 20 characters" in _texts(at)
    at.text_input(key="imp_notice_version").input("2026-02").run()
    _fine(at)
    assert not at.button(key="imp_check").disabled
    at.button(key="imp_check").click().run()
    _fine(at)
    assert _metrics(at) == {"New": "2", "Updated": "0", "Unchanged": "0", "Rejected": "0",
                            "Consent changes to record": "1"}
    at.button(key="imp_back_2").click().run()  # back to the mapping: the version stays
    assert at.text_input(key="imp_notice_version").value == "2026-02"
    at.button(key="imp_check").click().run()
    at.button(key="imp_to_commit").click().run()
    at.button(key="imp_commit").click().run()
    _fine(at)
    assert _metrics(at)["Consent changes recorded"] == "1"
    with read_session(app_db) as session:
        rows = session.exec(select(ConsentEvent)).all()
        recorder = session.exec(select(User).where(User.username == "admin")).one()
    assert [(r.purpose, r.granted, r.source, r.notice_version, r.recorded_by_user_id)
            for r in rows] == [("email_marketing", True, "import", "2026-02", recorder.id)]
