"""Exporting lookup results: the segment export's policy — role, consent, formula-safe
writer, audit — applied to what a search lists."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from db.core.access import Actor, PermissionDenied
from db.customers import profile
from db.customers.service import create_customer
from db.models import AuditEvent
from db.search.export import export_results
from db.search.ranking import SearchFilters
from tests.factories import ADMIN, MANAGER, MARKETING


@pytest.fixture
def pagers(engine: Engine) -> dict[str, int]:
    """Four customers called Pager; Ada, Ben and Dora granted email-marketing consent."""
    ids = {}
    for first, country, city in (("Ada", "DE", '=HYPERLINK("x")'), ("Ben", "DE", "Berlin"),
                                 ("Cem", "DE", "Köln"), ("Dora", "AT", "Wien")):
        ids[first] = create_customer(ADMIN, {
            "first_name": first, "last_name": "Pager", "country": country, "city": city,
            "email": f"{first.lower()}@example.com",
            "phone": "030 1234567" if first == "Ada" else None}, engine=engine).id
        if first != "Cem":
            profile.record_consent(ADMIN, ids[first], purpose="email_marketing", granted=True,
                                   source="form", notice_version="v1", engine=engine)
    create_customer(ADMIN, {"first_name": "Ida", "last_name": "Olsen", "country": "DE"},
                    engine=engine)
    return ids


def _exports(engine: Engine) -> list[tuple[str, dict]]:
    with Session(engine) as session:
        events = session.execute(select(AuditEvent).where(AuditEvent.action == "lookup.export")
                                 .order_by(AuditEvent.id)).scalars()
        return [(event.actor, json.loads(event.changes)) for event in events]


def test_only_consented_results_are_exported_formula_safe_and_audited(
    engine: Engine, pagers: dict[str, int]
) -> None:
    made = export_results(MARKETING, "pager", SearchFilters(country="DE"), engine=engine)
    rows = list(csv.DictReader(io.StringIO(made.file.data.decode("utf-8-sig"))))
    assert [row["first_name"] for row in rows] == ["Ada", "Ben"]  # Cem did not consent
    assert (made.results, made.total, made.file.rows) == (3, 3, 2)
    assert rows[0]["city"] == "'=HYPERLINK(\"x\")"
    assert rows[0]["phone"] == "+49301234567"  # a phone number is not a formula
    assert made.file.filename.startswith("lookup-") and made.file.mime == "text/csv"
    assert _exports(engine) == [(MARKETING.username, {
        "search": "pager", "country": "DE", "status": None, "tag": None,
        "results": 3, "rows": 2, "withheld": 0, "format": "csv", "without_consent": False})]


def test_only_admins_export_everyone_and_that_is_audited(engine: Engine,
                                                        pagers: dict[str, int]) -> None:
    for actor in (MARKETING, MANAGER):
        with pytest.raises(PermissionDenied):
            export_results(actor, "pager", include_without_consent=True, engine=engine)
    with pytest.raises(PermissionDenied):
        export_results(Actor("x", "nobody"), "pager", engine=engine)
    everyone = export_results(ADMIN, "pager", fmt="xlsx", include_without_consent=True,
                              engine=engine)
    sheet = openpyxl.load_workbook(io.BytesIO(everyone.file.data)).active
    assert sorted(row[1] for row in sheet.iter_rows(min_row=2, values_only=True)) == [
        "Ada", "Ben", "Cem", "Dora"]
    city = next(row for row in sheet.iter_rows(min_row=2) if row[1].value == "Ada")[7]
    assert (city.value, city.data_type) == ('=HYPERLINK("x")', "s")  # text, not a formula
    assert [(actor, changes["rows"], changes["without_consent"])
            for actor, changes in _exports(engine)] == [(ADMIN.username, 4, True)]
