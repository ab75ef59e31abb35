"""Control characters (a NUL above all) in any typed text are refused by the service with a
message naming the field, before anything is written: PostgreSQL cannot store a NUL, and no
one types the others on purpose. Line breaks and tabs are allowed only in multi-line fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from db.customers import profile
from db.customers.orders import record_order
from db.customers.service import create_customer, update_customer
from db.customers.validation import InvalidFields, InvalidValue, check_text
from db.models import AuditEvent
from db.segments import service as segments
from db.segments.definition import Group
from db.segments.membership import SegmentError
from db.users.service import UserError, authenticate, create_user
from tests.factories import ADMIN, MANAGER, MARKETING, customer

NUL = "\x00"
BASE = {"first_name": "Clean", "last_name": "Record", "country": "DE"}
SINGLE_LINE = ("first_name", "last_name", "street", "postcode", "city", "occupation",
               "external_ref", "email", "phone", "country")


def _events(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(AuditEvent)).one()


def _refused(engine: Engine, call: Callable[[], Any], error: type[Exception]) -> Exception:
    """``call`` raises ``error`` and writes no audit event (so nothing was written)."""
    before = _events(engine)
    with pytest.raises(error) as caught:
        call()
    assert _events(engine) == before
    return caught.value


@pytest.mark.parametrize(("text", "multiline", "refused"), [
    ("Jo\x00hn", False, True), ("Jo\x00hn", True, True), ("a\x07b", True, True),
    ("a\x1bb", True, True), ("a\x7fb", True, True), ("a\x85b", True, True),
    ("two\nlines", False, True), ("tab\there", False, True), ("cr\rhere", False, True),
    ("two\nlines", True, False), ("tab\there", True, False), ("crlf\r\nx", True, False),
    ("Da\u200fvid", False, False), ("Zoë 👩\u200d💻", False, False)])
def test_the_shared_check(text: str, multiline: bool, refused: bool) -> None:
    if refused:
        with pytest.raises(InvalidValue, match=r"U\+00|line break|tab"):
            check_text(text, multiline=multiline)
    else:
        assert check_text(text, multiline=multiline) == text


@pytest.mark.parametrize("field", SINGLE_LINE)
def test_customer_fields_refuse_a_nul(engine: Engine, field: str) -> None:
    fields = {**BASE, field: "Ber\x00lin"}
    error = _refused(engine, lambda: create_customer(ADMIN, fields, confirm=True,
                                                     engine=engine), InvalidFields)
    assert isinstance(error, InvalidFields)
    assert list(error.errors) == [field]
    assert "U+0000" in error.errors[field] and "control character" in error.errors[field]


def test_an_edit_refuses_a_line_break_in_a_name(engine: Engine) -> None:
    record = customer(engine)
    assert record.id is not None
    error = _refused(engine, lambda: update_customer(
        ADMIN, record.id or 0, record.version, {"last_name": "Smith\nJones"}, engine=engine),
        InvalidFields)
    assert isinstance(error, InvalidFields) and "line break" in error.errors["last_name"]


@pytest.mark.parametrize("field", ["subject", "summary", "outcome"])
def test_interaction_fields_refuse_a_nul(engine: Engine, field: str) -> None:
    record = customer(engine)
    values = {"subject": "Call back", "summary": "Line one\nline two", "outcome": "ok",
              field: f"bad{NUL}text"}
    error = _refused(engine, lambda: profile.log_interaction(
        MANAGER, record.id or 0, kind="call", engine=engine, **values), InvalidFields)
    assert isinstance(error, InvalidFields) and "U+0000" in error.errors[field]


def test_an_interaction_summary_keeps_its_lines(engine: Engine) -> None:
    record = customer(engine)
    logged = profile.log_interaction(MANAGER, record.id or 0, kind="call", subject="Call",
                                     summary="Line one\n\tline two", engine=engine)
    assert logged.summary == "Line one\n\tline two"


@pytest.mark.parametrize("field", ["notice_version"])  # a source is a word of a list
def test_consent_fields_refuse_a_nul(engine: Engine, field: str) -> None:
    record = customer(engine)
    values = {"source": "phone", "notice_version": "v1", field: f"web{NUL}"}
    error = _refused(engine, lambda: profile.record_consent(
        MARKETING, record.id or 0, purpose="email_marketing", granted=True, engine=engine,
        **values), InvalidFields)
    assert isinstance(error, InvalidFields) and "U+0000" in error.errors[field]


def test_tags_refuse_a_nul(engine: Engine) -> None:
    record = customer(engine)
    error = _refused(engine, lambda: profile.set_tags(MARKETING, record.id or 0,
                                                      ["vip", f"x{NUL}y"], engine=engine),
                     InvalidFields)
    assert isinstance(error, InvalidFields) and "U+0000" in error.errors["tags"]


@pytest.mark.parametrize("field", ["category", "product"])
def test_order_fields_refuse_a_nul(engine: Engine, field: str) -> None:
    record = customer(engine)
    values = {"category": "books", "product": "Paperback", field: f"a{NUL}b"}
    error = _refused(engine, lambda: record_order(
        MANAGER, record.id or 0, amount="10.00", channel="web", quantity=1, engine=engine,
        **values), InvalidFields)
    assert isinstance(error, InvalidFields) and "U+0000" in error.errors[field]


@pytest.mark.parametrize(("name", "description"), [(f"Ger{NUL}mans", None),
                                                    ("Germans", f"All{NUL}of them"),
                                                    ("Germans", "All\x1b[31m of them")])
def test_segment_names_and_descriptions_refuse_controls(engine: Engine, name: str,
                                                        description: str | None) -> None:
    error = _refused(engine, lambda: segments.save_segment(
        MARKETING, name=name, description=description, kind="dynamic", definition=Group(),
        engine=engine), SegmentError)
    assert "control character" in str(error)


@pytest.mark.parametrize(("username", "display_name"), [(f"ja{NUL}ne", "Jane"),
                                                        ("jane", f"Ja{NUL}ne")])
def test_user_names_refuse_a_nul(engine: Engine, username: str, display_name: str) -> None:
    _refused(engine, lambda: create_user(ADMIN, username=username, display_name=display_name,
                                         role="marketing", password="a long password 1",
                                         engine=engine), UserError)


def test_sign_in_with_a_nul_is_a_failed_sign_in(engine: Engine) -> None:
    create_user(ADMIN, username="jane", display_name="Jane", role="marketing",
                password="a long password 1", engine=engine)
    assert authenticate(f"ja{NUL}ne", "a long password 1", engine=engine) is None
    assert authenticate("jane", f"a long{NUL} password 1", engine=engine) is None
    assert authenticate("jane", "a long password 1", engine=engine) is not None
