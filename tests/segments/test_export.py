"""Exporting a saved segment's members: consented only, formulas neutralised, audited."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from sqlalchemy import Engine

from db.core.access import PermissionDenied
from db.segments import service
from db.segments.export import export_members
from db.segments.membership import SegmentError
from tests.factories import ADMIN, MARKETING
from tests.segments.common import GERMANS, events, unreadable_segment


def test_export_holds_consented_members_neutralised_and_audited(engine: Engine,
                                                                people: dict) -> None:
    saved = service.save_segment(MARKETING, name="Germans / DE", description=None,
                                 kind="dynamic", definition=GERMANS, engine=engine)
    exported = export_members(MARKETING, saved.id, fmt="csv", engine=engine)
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert [row["first_name"] for row in rows] == ["Anna", "Ben"]  # Carl did not consent
    assert rows[0]["city"] == "'=HYPERLINK(\"x\")"
    assert rows[0]["phone"] == "+49301234567"  # a phone number is not a formula
    assert exported.filename.startswith("Germans-DE-") and exported.rows == 2
    with pytest.raises(PermissionDenied):
        export_members(MARKETING, saved.id, include_without_consent=True, engine=engine)
    everyone = export_members(ADMIN, saved.id, fmt="xlsx", include_without_consent=True,
                              engine=engine)
    sheet = openpyxl.load_workbook(io.BytesIO(everyone.data)).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "Anna", "Ben", "Carl"]
    city = sheet.cell(row=2, column=8)
    assert (city.value, city.data_type) == ("=HYPERLINK(\"x\")", "s")  # text, not a formula
    assert [(a, c["rows"], c["without_consent"]) for a, _, c in events(
        engine, "segment.export")] == [(MARKETING.username, 2, False), (ADMIN.username, 3, True)]


def test_an_unreadable_definition_is_not_exported(engine: Engine, people: dict) -> None:
    broken = unreadable_segment(engine)
    with pytest.raises(SegmentError, match="can no longer be read"):
        export_members(MARKETING, broken.id, engine=engine)
