"""Saving, editing, duplicating, deleting, sizing and exporting segments, with their audit."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import openpyxl
import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from db.core.access import Actor, PermissionDenied
from db.customers import profile
from db.customers.service import create_customer
from db.models import AuditEvent, Segment, SegmentSize
from db.segments import service as segments
from db.segments.definition import Condition, Group, InvalidDefinition

ADMIN = Actor("ada", "admin")
MARKETING = Actor("mia", "marketing")
OTHER_MARKETING = Actor("max", "marketing")
MANAGER = Actor("meg", "manager")
GERMANS = Group(children=[Condition(field="country", op="eq", value="DE")])


def _events(engine: Engine, action: str) -> list[tuple[str, str, dict]]:
    """(actor, entity id, changes) of each audit event with ``action``, oldest first."""
    with Session(engine) as session:
        events = session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                 .order_by(AuditEvent.id)).scalars()
        return [(event.actor, str(event.entity_id), json.loads(event.changes))
                for event in events]


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    """Three Germans (two consented to email marketing), one Frenchman (consented)."""
    ids = {}
    for first, country, city in (("Anna", "DE", "=HYPERLINK(\"x\")"), ("Ben", "DE", "Berlin"),
                                 ("Carl", "DE", "Köln"), ("Dora", "FR", "Paris")):
        ids[first] = create_customer(ADMIN, {"first_name": first, "last_name": "Test",
                                             "country": country, "city": city,
                                             "email": f"{first.lower()}@example.com",
                                             "phone": "030 1234567" if first == "Anna"
                                             else None},
                                     engine=engine, confirm=True).id
    for first in ("Anna", "Ben", "Dora"):
        profile.record_consent(ADMIN, ids[first], purpose="email_marketing", granted=True,
                               source="test", notice_version="v1", engine=engine)
    return ids


def test_preview_counts_members_share_and_emailable(engine: Engine, people: dict) -> None:
    shown = segments.preview(MARKETING, GERMANS, engine=engine)
    assert (shown.count, shown.total, shown.emailable) == (3, 4, 2)
    everyone = segments.preview(MARKETING, Group(), engine=engine)
    assert everyone.emailable == 3  # Anna, Ben, Dora: consent and an address
    assert shown.share == pytest.approx(0.75)
    assert list(shown.sample["id"]) == sorted(people[n] for n in ("Anna", "Ben", "Carl"))
    by_country = shown.by_country.set_index("group")
    assert by_country.loc["DE", "members"] == 3 and by_country.loc["FR", "members"] == 0
    assert shown.by_age.set_index("group").loc["unknown", "everyone"] == 4


def test_save_edit_duplicate_delete_are_audited(engine: Engine, people: dict) -> None:
    saved = segments.save_segment(MARKETING, name="  Germans ", description="DE only",
                                  kind="dynamic", definition=GERMANS, engine=engine)
    assert saved.name == "Germans" and saved.owner == "mia"
    with pytest.raises(segments.SegmentError, match="already exists"):
        segments.save_segment(MARKETING, name="germans", description=None, kind="dynamic",
                              definition=GERMANS, engine=engine)
    everyone = Group(match="any", children=[GERMANS, Condition(field="country", op="eq",
                                                               value="FR")])
    edited = segments.update_segment(MARKETING, saved.id, expected_version=saved.version,
                                     name="Germans and French", description="DE or FR",
                                     kind="dynamic", definition=everyone, engine=engine)
    with pytest.raises(segments.SegmentError, match="after you opened it"):
        segments.update_segment(MARKETING, saved.id, expected_version=saved.version,
                                name="Stale", description=None, kind="dynamic",
                                definition=GERMANS, engine=engine)
    with pytest.raises(PermissionDenied, match="owner"):
        segments.delete_segment(OTHER_MARKETING, saved.id, engine=engine)
    copy = segments.duplicate_segment(OTHER_MARKETING, saved.id, engine=engine)
    assert (copy.name, copy.owner) == ("Germans and French (copy)", "max")
    assert segments.segment_size(MARKETING, copy.id, engine=engine) == 4
    segments.delete_segment(OTHER_MARKETING, copy.id, engine=engine)

    (actor, entity_id, changes), = _events(engine, "segment.update")
    assert (actor, entity_id) == ("mia", str(edited.id))
    assert changes["name"] == ["Germans", "Germans and French"] and "definition" in changes
    assert [c["name"] for _, _, c in _events(engine, "segment.create")] == [
        "Germans", "Germans and French (copy)"]
    assert [(a, c["name"]) for a, _, c in _events(engine, "segment.delete")] == [
        ("max", "Germans and French (copy)")]


def test_static_segments_keep_their_snapshot(engine: Engine, people: dict) -> None:
    static = segments.save_segment(MARKETING, name="Germans today", description=None,
                                   kind="static", definition=GERMANS, engine=engine)
    assert static.snapshot_at is not None
    create_customer(ADMIN, {"first_name": "Emil", "last_name": "New", "country": "DE"},
                    engine=engine, confirm=True)
    dynamic = segments.save_segment(MARKETING, name="Germans now", description=None,
                                    kind="dynamic", definition=GERMANS, engine=engine)
    sizes = {row.name: row.size for row in segments.list_segments(MARKETING, engine=engine)}
    assert sizes == {"Germans today": 3, "Germans now": 4}
    overlap = segments.overlap(MARKETING, [static.id, dynamic.id], engine=engine)
    assert overlap.iloc[0][["both", "first_size", "second_size"]].tolist() == [3, 3, 4]


def test_membership_refuses_cycles_and_protects_used_segments(engine: Engine,
                                                               people: dict) -> None:
    base = segments.save_segment(MARKETING, name="Base", description=None, kind="dynamic",
                                 definition=GERMANS, engine=engine)
    uses = Group(children=[Condition(field="segment", op="in_segment", value=base.id)])
    user = segments.save_segment(MARKETING, name="Uses base", description=None,
                                 kind="dynamic", definition=uses, engine=engine)
    assert segments.count(MARKETING, uses, engine=engine) == 3
    with pytest.raises(segments.SegmentError, match="used by Uses base"):
        segments.delete_segment(MARKETING, base.id, engine=engine)
    loop = Group(children=[Condition(field="segment", op="in_segment", value=user.id)])
    with pytest.raises(segments.SegmentError, match="cannot include itself"):
        segments.update_segment(MARKETING, base.id, expected_version=base.version,
                                name="Base", description=None, kind="dynamic",
                                definition=loop, engine=engine)


def test_sizes_are_recorded_once_a_day(engine: Engine, people: dict) -> None:
    saved = segments.save_segment(MARKETING, name="Germans", description=None,
                                  kind="dynamic", definition=GERMANS, engine=engine)
    segments.segment_size(MARKETING, saved.id, engine=engine)
    create_customer(ADMIN, {"first_name": "Emil", "last_name": "New", "country": "DE"},
                    engine=engine, confirm=True)
    assert segments.segment_size(MARKETING, saved.id, engine=engine) == 4
    history = segments.size_history(MARKETING, saved.id, engine=engine)
    assert len(history) == 1 and history["size"].iloc[0] == 3  # the day's first evaluation
    with Session(engine) as session:
        assert session.get(SegmentSize, (saved.id, history["day"].iloc[0])) is not None
        assert isinstance(history["day"].iloc[0], date)
    # A new definition makes today's recorded size stale: the next count replaces it.
    segments.update_segment(MARKETING, saved.id, expected_version=saved.version,
                            name="Germans", description=None, kind="dynamic",
                            definition=Group(), engine=engine)
    assert segments.segment_size(MARKETING, saved.id, engine=engine) == 5
    assert list(segments.size_history(MARKETING, saved.id, engine=engine)["size"]) == [5]


def test_export_holds_consented_members_neutralised_and_audited(engine: Engine,
                                                                people: dict) -> None:
    saved = segments.save_segment(MARKETING, name="Germans / DE", description=None,
                                  kind="dynamic", definition=GERMANS, engine=engine)
    exported = segments.export_members(MARKETING, saved.id, fmt="csv", engine=engine)
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert [row["first_name"] for row in rows] == ["Anna", "Ben"]  # Carl did not consent
    assert rows[0]["city"] == "'=HYPERLINK(\"x\")"
    assert rows[0]["phone"] == "+49301234567"  # a phone number is not a formula
    assert exported.filename.startswith("Germans-DE-") and exported.rows == 2
    with pytest.raises(PermissionDenied):
        segments.export_members(MARKETING, saved.id, include_without_consent=True,
                                engine=engine)
    everyone = segments.export_members(ADMIN, saved.id, fmt="xlsx",
                                       include_without_consent=True, engine=engine)
    sheet = openpyxl.load_workbook(io.BytesIO(everyone.data)).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "Anna", "Ben", "Carl"]
    city = sheet.cell(row=2, column=8)
    assert (city.value, city.data_type) == ("=HYPERLINK(\"x\")", "s")  # text, not a formula
    events = _events(engine, "segment.export")
    assert [(a, c["rows"], c["without_consent"]) for a, _, c in events] == [
        ("mia", 2, False), ("ada", 3, True)]


def test_roles_and_bad_input(engine: Engine) -> None:
    with pytest.raises(PermissionDenied):
        segments.count(Actor("x", "nobody"), GERMANS, engine=engine)
    with pytest.raises(InvalidDefinition):
        segments.save_segment(MARKETING, name="Bad", description=None, kind="dynamic",
                              definition=Group(children=[Condition(field="age", op="gt",
                                                                   value=-1)]),
                              engine=engine)
    with pytest.raises(segments.SegmentError, match="name"):
        segments.save_segment(MARKETING, name="   ", description=None, kind="dynamic",
                              definition=GERMANS, engine=engine)
    assert segments.count(MANAGER, GERMANS, engine=engine) == 0


def test_copies_keep_the_snapshot_and_unreadable_definitions_do_not_break_the_list(
        engine: Engine, people: dict) -> None:
    static = segments.save_segment(MARKETING, name="Germans then", description=None,
                                   kind="static", definition=GERMANS, engine=engine)
    create_customer(ADMIN, {"first_name": "Emil", "last_name": "New", "country": "DE"},
                    engine=engine, confirm=True)
    copy = segments.duplicate_segment(MARKETING, static.id, engine=engine)
    assert copy.snapshot_at == static.snapshot_at
    assert segments.segment_size(MARKETING, copy.id, engine=engine) == 3  # not today's 4

    broken = segments.save_segment(MARKETING, name="Broken", description=None,
                                   kind="dynamic", definition=GERMANS, engine=engine)
    with engine.begin() as connection:  # as if written by an older version
        connection.execute(Segment.__table__.update().where(Segment.id == broken.id)
                           .values(definition='{"type": "group", "match": "sometimes"}'))
    sizes = {row.name: row.size for row in segments.list_segments(MARKETING, engine=engine)}
    assert sizes["Broken"] == -1 and sizes["Germans then"] == 3
    with pytest.raises(segments.SegmentError, match="can no longer be read"):
        segments.export_members(MARKETING, broken.id, engine=engine)
    segments.delete_segment(MARKETING, broken.id, engine=engine)  # still removable


def test_saving_an_unchanged_segment_writes_nothing(engine: Engine, people: dict) -> None:
    saved = segments.save_segment(MARKETING, name="Germans", description=None,
                                  kind="dynamic", definition=GERMANS, engine=engine)
    again = segments.update_segment(MARKETING, saved.id, expected_version=saved.version,
                                    name="Germans", description=None, kind="dynamic",
                                    definition=GERMANS, engine=engine)
    assert again.version == saved.version
    assert _events(engine, "segment.update") == []
