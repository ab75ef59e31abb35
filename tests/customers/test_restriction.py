"""Objection ("do not contact") and restriction of processing: who may set and clear them,
what is recorded, and that every export leaves a marked customer out and counts them."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from db import exports
from db.core.access import PermissionDenied
from db.customers import export, profile, restriction
from db.customers.validation import InvalidFields
from db.derived import summary
from db.models import AuditEvent, CustomerRestriction
from db.search.export import export_results
from db.segments import preview, service
from db.segments.definition import Condition, Group
from db.segments.export import export_members
from tests import factories
from tests.factories import ADMIN, MANAGER, MARKETING

EVERYONE = Group(children=[Condition(field="country", op="eq", value="DE")])


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    """Four customers called Marker, all with an address and e-mail consent: Olga objected
    (do not contact), Rita is restricted, Nina has neither marker; Pia never consented."""
    ids = {}
    for first in ("Nina", "Olga", "Rita", "Pia"):
        ids[first] = factories.customer(engine, first, "Marker",
                                        email=f"{first.lower()}@example.com").id
        if first != "Pia":
            profile.record_consent(ADMIN, ids[first], purpose="email_marketing", granted=True,
                                   source="web", notice_version="v1", engine=engine)
    restriction.set_marker(ADMIN, ids["Olga"], "do_not_contact", "Objected by letter",
                           engine=engine)
    restriction.set_marker(ADMIN, ids["Rita"], "restricted", "Disputes her address",
                           engine=engine)
    return ids


def _events(engine: Engine, action: str) -> list[tuple[str, str | None, dict]]:
    with Session(engine) as session:
        found = session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.id)).scalars()
        return [(e.actor, e.entity_id, json.loads(e.changes)) for e in found]


def _names(data: bytes) -> list[str]:
    return [row["first_name"] for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))]


def test_only_admins_set_or_clear_a_marker(engine: Engine) -> None:
    customer_id = factories.customer(engine).id
    for actor in (MANAGER, MARKETING):
        with pytest.raises(PermissionDenied):
            restriction.set_marker(actor, customer_id, "do_not_contact", "asked",
                                   engine=engine)
        with pytest.raises(PermissionDenied):
            restriction.clear_marker(actor, customer_id, "do_not_contact", "asked",
                                     engine=engine)
    assert restriction.may_change(ADMIN) and not restriction.may_change(MANAGER)
    assert restriction.current(MANAGER, customer_id, engine=engine) == {}
    assert _events(engine, "customer.restrict") == []


def test_a_reason_is_required_and_checked(engine: Engine) -> None:
    customer_id = factories.customer(engine).id
    with pytest.raises(InvalidFields) as missing:
        restriction.set_marker(ADMIN, customer_id, "restricted", "   ", engine=engine)
    assert "Give a reason" in missing.value.errors["reason"]
    with pytest.raises(InvalidFields) as control:
        restriction.set_marker(ADMIN, customer_id, "restricted", "bad\x1b[31m", engine=engine)
    assert "reason" in control.value.errors
    with pytest.raises(InvalidFields) as kind:
        restriction.set_marker(ADMIN, customer_id, "gagged", "why", engine=engine)
    assert "kind" in kind.value.errors
    restriction.set_marker(ADMIN, customer_id, "restricted", "asked", engine=engine)
    with pytest.raises(InvalidFields):
        restriction.clear_marker(ADMIN, customer_id, "restricted", "", engine=engine)
    assert set(restriction.current(ADMIN, customer_id, engine=engine)) == {"restricted"}


def test_set_and_clear_are_audited_and_the_history_kept(engine: Engine) -> None:
    customer_id = factories.customer(engine).id
    marker = restriction.set_marker(ADMIN, customer_id, "do_not_contact",
                                    "  Objected by phone  ", engine=engine)
    assert (marker.reason, marker.set_by, marker.cleared_at) == (
        "Objected by phone", ADMIN.username, None)
    with pytest.raises(restriction.MarkerError, match="already set"):
        restriction.set_marker(ADMIN, customer_id, "do_not_contact", "again", engine=engine)
    shown = restriction.current(MARKETING, customer_id, engine=engine)
    assert shown["do_not_contact"].reason == "Objected by phone"
    assert restriction.held_by(MARKETING, [customer_id, 999], engine=engine) == {
        customer_id: ["do_not_contact"]}
    restriction.clear_marker(ADMIN, customer_id, "do_not_contact", "Withdrew the objection",
                             engine=engine)
    with pytest.raises(restriction.MarkerError, match="not set"):
        restriction.clear_marker(ADMIN, customer_id, "do_not_contact", "x", engine=engine)
    assert restriction.current(ADMIN, customer_id, engine=engine) == {}
    restriction.set_marker(ADMIN, customer_id, "do_not_contact", "Objected again",
                           engine=engine)
    periods = restriction.history(MANAGER, customer_id, engine=engine)
    assert [(p.reason, p.clear_reason, p.cleared_by) for p in periods] == [
        ("Objected again", None, None),
        ("Objected by phone", "Withdrew the objection", ADMIN.username)]
    key = str(customer_id)
    assert _events(engine, "customer.restrict") == [
        (ADMIN.username, key, {"do_not_contact": [False, True], "reason": "Objected by phone"}),
        (ADMIN.username, key, {"do_not_contact": [False, True], "reason": "Objected again"})]
    [(actor, entity, cleared)] = _events(engine, "customer.unrestrict")
    assert (actor, entity, cleared["do_not_contact"], cleared["reason"],
            cleared["set_reason"]) == (ADMIN.username, key, [True, False],
                                       "Withdrew the objection", "Objected by phone")


def test_the_summary_copies_the_markers_as_a_rebuild_computes_them(
        engine: Engine, people: dict[str, int]) -> None:
    restriction.set_marker(ADMIN, people["Olga"], "restricted", "both", engine=engine)
    restriction.clear_marker(ADMIN, people["Rita"], "restricted", "settled", engine=engine)
    restriction.set_marker(ADMIN, people["Rita"], "restricted", "again", engine=engine)
    restriction.clear_marker(ADMIN, people["Olga"], "do_not_contact", "withdrawn",
                             engine=engine)
    columns = summary.SUMMARY.c

    def stored() -> list[tuple]:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(
                select(summary.SUMMARY).order_by(columns.customer_id))]

    incremental = stored()
    marks = {row[0]: (row[list(columns.keys()).index("do_not_contact")],
                      row[list(columns.keys()).index("restricted")]) for row in incremental}
    assert marks == {people["Nina"]: (False, False), people["Olga"]: (False, True),
                     people["Rita"]: (False, True), people["Pia"]: (False, False)}
    with engine.connect() as connection:
        assert summary.differences(connection) == 0
    with engine.begin() as connection:
        summary.rebuild(connection)
    assert stored() == incremental


def test_the_all_customers_export_leaves_marked_customers_out(
        engine: Engine, people: dict[str, int]) -> None:
    made = export.all_customers_file(ADMIN, fmt="csv", engine=engine)
    assert sorted(_names(made.data)) == ["Nina", "Pia"]
    assert (made.rows, made.withheld) == (2, 2)
    out = io.BytesIO()
    assert export.export_all_customers(ADMIN, out, fmt="xlsx", engine=engine) == 2
    assert [(c["rows"], c["withheld"]) for _, _, c in _events(engine, "customer.export_all")] \
        == [(2, 2), (2, 2)]


def test_a_marked_customers_record_is_not_exported(engine: Engine,
                                                    people: dict[str, int]) -> None:
    for name in ("Olga", "Rita"):
        with pytest.raises(exports.ExportError, match="not exported"):
            export.export_record(ADMIN, people[name], fmt="xlsx", engine=engine)
    assert export.export_record(MANAGER, people["Nina"], engine=engine).rows >= 1
    assert len(_events(engine, "customer.export_record")) == 1


def test_the_lookup_export_leaves_marked_customers_out_even_for_everyone(
        engine: Engine, people: dict[str, int]) -> None:
    consented = export_results(MARKETING, "marker", engine=engine)
    assert _names(consented.file.data) == ["Nina"]
    assert (consented.results, consented.file.rows, consented.file.withheld) == (4, 1, 2)
    everyone = export_results(ADMIN, "marker", include_without_consent=True, engine=engine)
    assert sorted(_names(everyone.file.data)) == ["Nina", "Pia"]
    assert everyone.file.withheld == 2
    assert [(c["rows"], c["withheld"]) for _, _, c in _events(engine, "lookup.export")] == [
        (1, 2), (2, 2)]


def test_segment_exports_and_the_preview_leave_marked_customers_out(
        engine: Engine, people: dict[str, int]) -> None:
    saved = service.save_segment(MARKETING, name="Markers", description=None,
                                 kind="dynamic", definition=EVERYONE, engine=engine)
    consented = export_members(MARKETING, saved.id, engine=engine)
    assert (_names(consented.data), consented.withheld) == (["Nina"], 2)
    everyone = export_members(ADMIN, saved.id, fmt="csv", include_without_consent=True,
                              engine=engine)
    assert (sorted(_names(everyone.data)), everyone.withheld) == (["Nina", "Pia"], 2)
    assert [(c["rows"], c["withheld"]) for _, _, c in _events(engine, "segment.export")] == [
        (1, 2), (2, 2)]
    shown = preview.preview(MARKETING, EVERYONE, engine=engine)
    assert (shown.count, shown.emailable) == (4, 1)  # Olga and Rita consented, may not be
    restriction.clear_marker(ADMIN, people["Rita"], "restricted", "settled", engine=engine)
    assert preview.preview(MARKETING, EVERYONE, engine=engine).emailable == 2
    assert export_members(MARKETING, saved.id, engine=engine).withheld == 1


def test_a_marker_on_a_missing_customer_is_refused(engine: Engine) -> None:
    with pytest.raises(restriction.CustomerNotFound):
        restriction.set_marker(ADMIN, 4242, "restricted", "why", engine=engine)
    with Session(engine) as session:
        assert session.execute(select(CustomerRestriction)).first() is None
