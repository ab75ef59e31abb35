"""The Audit page: filters, paging, an event's old → new detail, export, verification."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from db.audit import trail
from db.core.engine import write_session
from tests.pages.conftest import ROOT

AUDIT_PAGE = str(ROOT / "pages" / "audit.py")


def _open(signed_in: Callable[[str], AppTest], role: str) -> AppTest:
    at = signed_in(role)
    at.switch_page(AUDIT_PAGE).run()
    assert not at.exception
    return at


def _select(at: AppTest, label: str, value: object) -> None:
    next(s for s in at.selectbox if s.label == label).select(value).run()


def _record_city_changes(engine: Engine, count: int) -> None:
    with write_session(engine) as session:
        for n in range(count):
            trail.record(session, actor="admin", action="customer.update", entity="customer",
                         entity_id=n, changes={"city": [f"Old {n}", f"New {n}"]},
                         source="form")


def test_filter_and_show_an_event_old_to_new(signed_in: Callable[[str], AppTest],
                                             app_db: Engine) -> None:
    _record_city_changes(app_db, 3)
    at = _open(signed_in, "manager")
    _select(at, "Action", "customer.update")
    table = at.dataframe[0].value
    assert list(table["Record id"]) == ["2", "1", "0"]  # newest first
    picker = next(s for s in at.selectbox if s.label == "Show the changes of event")
    picker.select(int(table["Id"].iloc[1])).run()
    detail = at.dataframe[1].value
    assert detail.to_dict("records") == [{"Field": "city", "Old": "Old 1", "New": "New 1"}]


def test_pages_walk_back_and_forth(signed_in: Callable[[str], AppTest],
                                   app_db: Engine) -> None:
    _record_city_changes(app_db, 120)
    at = _open(signed_in, "admin")
    _select(at, "Action", "customer.update")
    first = list(at.dataframe[0].value["Record id"])
    assert first[0] == "119" and len(first) == 50
    next(b for b in at.button if b.label == "Older →").click().run()
    second = list(at.dataframe[0].value["Record id"])
    assert second[0] == "69"
    next(b for b in at.button if b.label == "Older →").click().run()
    assert list(at.dataframe[0].value["Record id"])[-1] == "0"
    assert next(b for b in at.button if b.label == "Older →").disabled
    next(b for b in at.button if b.label == "← Newer").click().run()
    assert list(at.dataframe[0].value["Record id"]) == second


def test_no_match_says_so(signed_in: Callable[[str], AppTest]) -> None:
    at = _open(signed_in, "manager")
    next(t for t in at.text_input if t.label == "Record id").input("nope").run()
    assert [i.value for i in at.info] == ["No events match these filters."]


def test_export_offers_a_download_and_is_audited(signed_in: Callable[[str], AppTest]) -> None:
    at = _open(signed_in, "admin")
    next(b for b in at.button if b.label.startswith("Prepare CSV")).click().run()
    assert not at.exception
    at.run()  # the filter choices now include the export's own event
    _select(at, "Action", "audit.export")
    table = at.dataframe[0].value
    assert list(table["User"]) == ["admin"]


def test_verify_button_for_admins_only(signed_in: Callable[[str], AppTest]) -> None:
    at = _open(signed_in, "admin")
    next(b for b in at.button if b.label == "Verify the hash chain").click().run()
    assert at.success and at.success[0].value.startswith("The chain is intact")
    manager = _open(signed_in, "manager")
    assert all(b.label != "Verify the hash chain" for b in manager.button)


def test_an_anchor_taken_on_the_page_shows_a_cut_tail(signed_in: Callable[[str], AppTest],
                                                      app_db: Engine) -> None:
    _record_city_changes(app_db, 3)
    at = _open(signed_in, "admin")
    next(b for b in at.button if b.label == "Take an anchor of the newest event").click().run()
    anchor = at.code[0].value
    assert '"format": "custdb-audit-anchor/1"' in anchor
    next(t for t in at.text_area if t.label.startswith("Anchor to check")).input(anchor).run()
    next(b for b in at.button if b.label == "Verify the hash chain").click().run()
    assert "still holds the anchored event" in at.success[0].value
    with app_db.begin() as connection:  # the newest event cut, around the triggers
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
        else:
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        connection.exec_driver_sql(
            "DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)")
    next(b for b in at.button if b.label == "Verify the hash chain").click().run()
    assert "cut from its end" in at.error[0].value


def test_marketing_is_refused(signed_in: Callable[[str], AppTest]) -> None:
    at = _open(signed_in, "marketing")
    assert at.error[0].value.startswith("Your role (marketing) does not give access to Audit")
    assert not at.dataframe
