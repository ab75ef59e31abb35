"""The New customer page: validation beside fields, duplicate e-mail, likely duplicates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, func, select
from streamlit.testing.v1 import AppTest

from dashboard.text import plain
from db.core.access import Actor
from db.customers.service import create_customer
from db.models import Customer
from tests.pages.conftest import ROOT

NEW = str(ROOT / "pages" / "new_customer.py")


def _open(signed_in: Callable[[str], AppTest]) -> AppTest:
    at = signed_in("manager")
    at.switch_page(NEW).run()
    assert not at.exception
    return at


def _fill(at: AppTest, **values: str) -> None:
    for name, value in values.items():
        at.text_input(key=f"new_{name}").input(value)
    at.button(key="FormSubmitter:new_customer-Create customer").click().run()


def _shown(markdown: str) -> str:
    """What a person reads: the Markdown escapes of dashboard.text.plain removed."""
    return markdown.replace("\\", "").replace("\u200b", "")


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Customer)).one()


def test_create_opens_the_new_profile(signed_in: Callable[[str], AppTest],
                                      app_db: Engine) -> None:
    at = _open(signed_in)
    _fill(at, first_name="Grace", last_name="Hopper", country="us", phone="+1 212 555 0100",
          email="grace@example.com")
    assert not at.exception
    assert at.title[0].value == "Grace Hopper"
    assert _count(app_db) == 1


def test_errors_appear_beside_their_fields_and_input_is_kept(
    signed_in: Callable[[str], AppTest], app_db: Engine
) -> None:
    at = _open(signed_in)
    _fill(at, first_name="Grace", email="grace@", country="Narnia")
    messages = [_shown(e.value) for e in at.error]
    assert "This field is required." in messages  # last name
    assert any("not a valid email" in m for m in messages)
    assert any("not a country" in m for m in messages)
    assert at.text_input(key="new_first_name").value == "Grace"
    assert _count(app_db) == 0


def test_a_taken_email_links_to_its_owner(signed_in: Callable[[str], AppTest],
                                          app_db: Engine) -> None:
    owner = create_customer(Actor("x", "admin"), {"first_name": "A", "last_name": "B",
                                                  "country": "GB", "email": "a@example.com"},
                            engine=app_db)
    at = _open(signed_in)
    _fill(at, first_name="C", last_name="D", country="GB", email="A@Example.com")
    assert any(f"Customer {owner.id} already has this e-mail" in _shown(e.value)
               for e in at.error)
    assert _count(app_db) == 1


def test_a_likely_duplicate_asks_first(signed_in: Callable[[str], AppTest],
                                       app_db: Engine) -> None:
    create_customer(Actor("x", "admin"), {"first_name": "Ann", "last_name": "Lee",
                                          "country": "GB", "postcode": "LS1 4AP"},
                    engine=app_db)
    at = _open(signed_in)
    _fill(at, first_name="ann", last_name="LEE", country="GB", postcode="LS1 4AP")
    assert at.warning[0].value.startswith("This looks like an existing customer")
    assert _count(app_db) == 1
    next(b for b in at.button if b.label == "Create anyway").click().run()
    assert not at.exception
    assert _count(app_db) == 2


def test_an_old_message_goes_when_the_field_is_emptied(signed_in: Callable[[str], AppTest],
                                                       app_db: Engine) -> None:
    create_customer(Actor("x", "admin"), {"first_name": "Ann", "last_name": "Lee",
                                          "country": "GB", "postcode": "LS1 4AP"},
                    engine=app_db)
    at = _open(signed_in)
    _fill(at, first_name="Ann", last_name="Lee", country="GB", postcode="LS1 4AP",
          email="ann@")
    assert any("not a valid email" in _shown(e.value) for e in at.error)
    _fill(at, email="")  # emptied: now only the likely duplicate stands in the way
    assert at.warning[0].value.startswith("This looks like an existing customer")
    assert [_shown(e.value) for e in at.error] == []


HOSTILE = "![t](http://127.0.0.1:9/x.png) <img src=x> [a](javascript:alert(1)) **b**"


def test_a_likely_duplicate_with_a_hostile_name_is_shown_as_typed(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    """The candidate's name is stored text: its link label renders Markdown, so it must reach
    the page escaped (no image fetched, no link, no bold)."""
    create_customer(Actor("x", "admin"), {"first_name": HOSTILE[:100], "last_name": "Lee",
                                          "country": "GB", "postcode": "LS1 4AP",
                                          "city": "**Leeds**"}, engine=app_db)
    at = _open(signed_in)
    _fill(at, first_name=HOSTILE[:100], last_name="Lee", country="GB", postcode="LS1 4AP")
    labels = [link.proto.label for link in at.get("page_link")]
    assert len(labels) == 1
    assert labels[0] == plain(labels[0].replace("\\", "").replace("\u200b", "")), labels
    assert _shown(labels[0]).startswith("#") and HOSTILE[:100] in _shown(labels[0])


@pytest.mark.parametrize(("typed", "message"), [
    (date(2030, 1, 1), "The birth date is in the future."),
    (date(1890, 5, 17), "That makes the customer older than 120."),
])
def test_a_birth_date_out_of_range_is_refused_beside_the_field_and_kept(
        signed_in: Callable[[str], AppTest], app_db: Engine, typed: date, message: str) -> None:
    """The service's rule decides, not the picker's bounds: a date the picker would have
    dropped used to create the customer without a birth date."""
    at = _open(signed_in)
    at.date_input(key="new_birth_date").set_value(typed)
    _fill(at, first_name="Grace", last_name="Hopper", country="US")
    assert message in [_shown(e.value) for e in at.error]
    assert at.date_input(key="new_birth_date").value == typed
    assert _count(app_db) == 0


def test_a_second_create_click_opens_the_customer_the_first_one_made(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    """The first click committed, and the click that followed stopped its run before the
    form was cleared: the second click sends the same fields and must not make a twin."""
    first = create_customer(Actor("manager", "manager"), {
        "first_name": "Grace", "last_name": "Hopper", "country": "US"}, engine=app_db)
    at = _open(signed_in)
    _fill(at, first_name="Grace", last_name="Hopper", country="us")
    assert not at.exception
    assert at.title[0].value == "Grace Hopper"
    assert at.query_params["customer"] == str(first.id)
    assert _count(app_db) == 1
