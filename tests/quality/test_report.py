"""The data quality report: every figure equals an independent pandas computation over the
same rows (the normalisers called directly, row by row), the stale threshold's boundary,
the lists behind each figure, their export (formula-safe, consent and markers as every
export) and their static segment (exactly the listed customers)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import Engine, select, update
from sqlmodel import Session, col

from db.admin import settings
from db.core.access import PermissionDenied
from db.customers import restriction
from db.customers.consent import record_consent
from db.customers.service import soft_delete_customer
from db.customers.validation import (
    InvalidValue,
    check_birth_date,
    normalise_email,
    normalise_phone,
)
from db.exports import ExportError
from db.models import AuditEvent, Customer, SegmentMember
from db.quality import lists, report
from db.quality.report import FIELDS, QualityError
from db.segments import service as segments
from db.segments.membership import SegmentError
from tests import factories
from tests.factories import ADMIN, MANAGER, MARKETING

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def _set(engine: Engine, customer_id: int, **values: object) -> None:
    """Write values around the app, as an old import or a direct edit would have."""
    with engine.begin() as connection:
        connection.execute(update(Customer).where(col(Customer.id) == customer_id)
                           .values(**values))


@pytest.fixture
def messy(engine: Engine) -> dict[str, int]:
    """Customers with every kind of problem, and some without; a deleted one with problems."""
    made = {}
    for key, fields in {
        "clean": {"email": "clean@example.com", "phone": "+4930123456",
                  "birth_date": date(1980, 5, 1), "street": "Hauptstr. 1", "city": "Berlin"},
        "national": {"phone": "030 1234567", "email": "Nat.Ional@Example.org"},
        "gb": {"country": "GB", "phone": "020 7946 0958"},
        "bad_email": {}, "blank": {}, "bad_phone": {}, "wrong_country": {"country": "US"},
        "future": {}, "ancient": {}, "oldest": {}, "formula": {"city": '=HYPERLINK("x")'},
        "deleted": {},
    }.items():
        country = str(fields.pop("country", "DE"))
        made[key] = factories.customer(engine, key.title(), "Quality", country=country,
                                       **fields).id
    today = NOW.date()
    _set(engine, made["bad_email"], email="not an e-mail", postcode="   ")
    _set(engine, made["blank"], email="  ", phone="", street="", occupation=" ")
    _set(engine, made["bad_phone"], phone="12", email="x@localhost")
    _set(engine, made["wrong_country"], phone="030 1234567")  # a German number, US customer
    _set(engine, made["future"], birth_date=today + timedelta(days=1), email="a..b@example.com")
    _set(engine, made["ancient"], birth_date=date(today.year - 121, today.month, today.day))
    _set(engine, made["oldest"], birth_date=date(today.year - 121, today.month, today.day)
         + timedelta(days=1))  # exactly 120: allowed
    _set(engine, made["formula"], phone="+1 oops", email="=cmd@example.com")
    _set(engine, made["deleted"], email="broken", birth_date=date(3000, 1, 1))
    soft_delete_customer(ADMIN, made["deleted"], engine=engine)
    for key, age in (("clean", 10), ("national", 179), ("gb", 181), ("bad_email", 400),
                     ("deleted", 900)):
        _set(engine, made[key], updated_at=NOW - timedelta(days=age))
    return made


def _frame(engine: Engine) -> pd.DataFrame:
    with Session(engine) as session:
        rows = session.exec(select(Customer)).scalars().all()
    frame = pd.DataFrame([row.model_dump() for row in rows])
    return frame[frame["deleted_at"].isna() & frame["erased_at"].isna()].set_index("id")


def _valid(normalise: object, *args: object) -> bool:
    try:
        normalise(*args)  # type: ignore[operator]
    except InvalidValue:
        return False
    return True


def _expected(frame: pd.DataFrame, days: int) -> dict[tuple[str, str | None], set[int]]:
    """Each list's ids, computed here without the report's SQL or its e-mail shortcut."""
    def blank(value: object) -> bool:
        return value is None or pd.isna(value) or (isinstance(value, str)
                                                     and value.strip(" ") == "")

    def birth_ok(value: object) -> bool:
        return _valid(check_birth_date, value, NOW.date())

    lists_: dict[tuple[str, str | None], set[int]] = {
        ("missing", field): set(frame.index[frame[field].map(blank)]) for field in FIELDS}
    lists_[("invalid_email", None)] = {
        i for i, value in frame["email"].items()
        if not blank(value) and not _valid(normalise_email, value)}
    lists_[("invalid_phone", None)] = {
        i for i, row in frame.iterrows()
        if not blank(row["phone"]) and not _valid(normalise_phone, row["phone"], row["country"])}
    lists_[("impossible_birth_date", None)] = {
        i for i, value in frame["birth_date"].items() if not blank(value) and not birth_ok(value)}
    updated = pd.to_datetime(frame["updated_at"], utc=True)
    lists_[("stale", None)] = set(frame.index[updated < NOW - timedelta(days=days)])
    return lists_


def test_every_figure_and_list_is_what_pandas_counts(engine: Engine, messy: dict) -> None:
    figures = report.quality_report(MANAGER, engine=engine, now=NOW)
    frame = _frame(engine)
    expected = _expected(frame, 180)
    assert figures.customers == len(frame) == len(messy) - 1
    assert figures.missing == {field: len(expected[("missing", field)]) for field in FIELDS}
    assert (figures.invalid_email, figures.invalid_phone, figures.impossible_birth_date,
            figures.stale) == tuple(len(expected[(check, None)]) for check in (
                "invalid_email", "invalid_phone", "impossible_birth_date", "stale"))
    # The fixture plants each problem, so none of these is vacuously equal.
    assert expected[("invalid_email", None)] == {messy[k] for k in (
        "bad_email", "bad_phone", "future")}
    assert expected[("invalid_phone", None)] == {messy[k] for k in (
        "bad_phone", "wrong_country", "formula")}
    assert expected[("impossible_birth_date", None)] == {messy["future"], messy["ancient"]}
    assert expected[("stale", None)] == {messy["gb"], messy["bad_email"]}
    assert expected[("missing", "street")] >= {messy["blank"]}
    assert figures.share_missing("postcode") == len(expected[("missing", "postcode")]) / len(
        frame)
    for (check, field), ids in expected.items():
        listed = report.customers_with(ADMIN, check, field, limit=None, engine=engine, now=NOW)
        assert [row.id for row in listed] == sorted(ids), (check, field)


def test_the_stale_threshold_is_the_setting_and_its_boundary_is_not_stale(
        engine: Engine) -> None:
    at_threshold = factories.customer(engine, "Exactly", "Threshold").id
    one_second_past = factories.customer(engine, "Just", "Past").id
    assert at_threshold is not None and one_second_past is not None
    assert settings.DEFAULTS.stale_after_days == 180
    _set(engine, at_threshold, updated_at=NOW - timedelta(days=180))
    _set(engine, one_second_past, updated_at=NOW - timedelta(days=180, seconds=1))
    figures = report.quality_report(ADMIN, engine=engine, now=NOW)
    assert figures.stale == 1 and figures.stale_before == NOW - timedelta(days=180)
    assert [r.id for r in report.customers_with(ADMIN, "stale", engine=engine, now=NOW)] == [
        one_second_past]
    settings.update(ADMIN, {"stale_after_days": 30}, engine=engine)
    assert report.quality_report(ADMIN, engine=engine, now=NOW).stale == 2
    # An order or a contact does not refresh the record: only writing its details does.
    factories.order(engine, one_second_past)
    factories.contact(engine, one_second_past)
    assert report.quality_report(ADMIN, engine=engine, now=NOW).stale == 2


def test_the_email_shortcut_agrees_with_the_normaliser() -> None:
    for value in ("a@example.com", " A.B+c@Example.COM ", "a..b@example.com", "a@localhost",
                  "a@b.test", "x@example", '"quoted"@example.com', "ä@example.com",
                  f"{'a' * 64}@example.com", f"{'a' * 65}@example.com",
                  f"a@{'b' * 63}.{'c' * 63}.{'d' * 63}.{'e' * 50}.com", "@example.com",
                  "a@", "a@-x.com", "a@x_y.com", ".a@example.com", "a.@example.com"):
        assert report.email_is_valid(value) == _valid(normalise_email, value), value


def test_roles_and_unknown_lists(engine: Engine) -> None:
    with pytest.raises(PermissionDenied):
        report.quality_report(MARKETING, engine=engine)
    with pytest.raises(PermissionDenied):
        report.customers_with(MARKETING, "stale", engine=engine)
    with pytest.raises(PermissionDenied):
        lists.export_list(MARKETING, "stale", engine=engine)
    with pytest.raises(QualityError, match="no list"):
        report.customers_with(ADMIN, "dirty", engine=engine)
    with pytest.raises(QualityError, match="Name a field"):
        report.customers_with(ADMIN, "missing", "shoe_size", engine=engine)
    with pytest.raises(QualityError, match="takes no field"):
        report.customers_with(ADMIN, "stale", "email", engine=engine)
    with pytest.raises(ExportError, match="CSV or Excel"):
        lists.export_list(ADMIN, "stale", fmt="pdf", engine=engine)


def _events(engine: Engine, action: str) -> list[dict]:
    with Session(engine) as session:
        return [json.loads(event.changes) for event in session.exec(
            select(AuditEvent).where(col(AuditEvent.action) == action)).scalars()]


def test_the_export_is_formula_safe_consented_and_audited(engine: Engine,
                                                          messy: dict) -> None:
    invalid_phone = {messy[k] for k in ("bad_phone", "wrong_country", "formula")}
    for key in ("formula", "bad_phone", "wrong_country"):
        record_consent(ADMIN, messy[key], purpose="email_marketing", granted=True,
                       source="form", notice_version="v1", engine=engine)
    restriction.set_marker(ADMIN, messy["wrong_country"], "do_not_contact", "Asked us to stop",
                           engine=engine)
    managers = lists.export_list(MANAGER, "invalid_phone", engine=engine)
    rows = list(csv.DictReader(io.StringIO(managers.data.decode("utf-8-sig"))))
    assert {int(row["customer_id"]) for row in rows} == {messy["formula"], messy["bad_phone"]}
    formula = next(row for row in rows if int(row["customer_id"]) == messy["formula"])
    assert formula["city"] == "'=HYPERLINK(\"x\")" and formula["email"] == "'=cmd@example.com"
    assert formula["phone"] == "'+1 oops"  # not a phone number, so neutralised
    assert managers.withheld == 1
    with pytest.raises(PermissionDenied):
        lists.export_list(MANAGER, "invalid_phone", include_without_consent=True,
                          engine=engine)
    everyone = lists.export_list(ADMIN, "invalid_phone", fmt="xlsx",
                                 include_without_consent=True, engine=engine)
    assert everyone.rows == 2 and everyone.withheld == 1  # do-not-contact stays out
    assert _events(engine, "quality.export") == [
        {"list": "invalid_phone", "field": None, "listed": len(invalid_phone), "rows": 2,
         "withheld": 1, "format": "csv", "without_consent": False},
        {"list": "invalid_phone", "field": None, "listed": len(invalid_phone), "rows": 2,
         "withheld": 1, "format": "xlsx", "without_consent": True}]
    empty = lists.export_list(ADMIN, "missing", "first_name", engine=engine)
    assert empty.rows == 0 and empty.data.decode("utf-8-sig").startswith("customer_id,")


def test_a_list_saved_as_a_static_segment_holds_exactly_its_customers(
        engine: Engine, messy: dict) -> None:
    listed = report.list_ids(MANAGER, "missing", "street", engine=engine)
    assert len(listed) > 2
    saved = lists.save_as_segment(MANAGER, "missing", "street", name="Re-permission: street",
                                  engine=engine)
    assert saved.kind == "static" and saved.owner == MANAGER.username
    assert "Missing: Street" in (saved.description or "")

    def members(segment_id: int) -> list[int]:
        with Session(engine) as session:
            return sorted(session.exec(select(SegmentMember.customer_id).where(
                col(SegmentMember.segment_id) == segment_id)).scalars())
    assert members(saved.id) == listed
    [event] = _events(engine, "segment.create")
    assert event["members"] == len(listed) and event["from_list"] == "data quality: " \
        "Missing: Street"
    with pytest.raises(SegmentError, match="“re-permission: STREET” already exists"):
        lists.save_as_segment(ADMIN, "stale", name="re-permission: STREET", engine=engine)
    with pytest.raises(SegmentError, match="Give the segment a name"):
        lists.save_as_segment(ADMIN, "stale", name="  ", engine=engine)
    with pytest.raises(PermissionDenied):
        lists.save_as_segment(MARKETING, "stale", name="Mine", engine=engine)
    # Renaming it in the segment builder keeps its members (its definition names nobody).
    renamed = segments.update_segment(
        MANAGER, saved.id, expected_version=saved.version, name="Street check",
        description=saved.description, kind="static",
        definition=segments.definition_of(saved), engine=engine)
    assert renamed.name == "Street check" and members(saved.id) == listed


def test_a_changed_phone_or_country_is_judged_again(engine: Engine) -> None:
    german = factories.customer(engine, "Gerd", "Phone", phone="030 1234567").id
    assert report.quality_report(ADMIN, engine=engine, now=NOW).invalid_phone == 0
    _set(engine, german, country="US")  # the stored +4930… is valid wherever they live
    assert report.quality_report(ADMIN, engine=engine, now=NOW).invalid_phone == 0
    _set(engine, german, phone="030 1234567")  # a national number: read in the US now
    assert report.quality_report(ADMIN, engine=engine, now=NOW).invalid_phone == 1
    _set(engine, german, country="DE")
    assert report.customers_with(ADMIN, "invalid_phone", engine=engine) == []
