"""The Privacy page: the retention report follows the setting, anonymising needs the count
and keeps a wrong one as typed, and an erased address can be lifted off the suppression list;
managers are refused."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import col
from streamlit.testing.v1 import AppTest

from db.admin import settings
from db.core import background
from db.core.access import Actor
from db.customers import suppression
from db.customers.service import CustomerErased, create_customer, get_customer
from db.derived import summary
from db.models import Customer
from db.privacy import retention
from db.privacy.erasure import erase_customer
from tests.pages.conftest import ROOT
from tests.pages.cut import cut_after

PRIVACY = str(ROOT / "pages" / "privacy.py")
ADMIN = Actor("admin", "admin")


def _old_customer(engine: Engine, name: str, email: str | None = None) -> int:
    made = create_customer(ADMIN, {"first_name": name, "last_name": "Old", "country": "DE",
                                   "email": email}, engine=engine, confirm=True)
    assert made.id is not None
    with engine.begin() as connection:
        connection.execute(update(Customer).where(col(Customer.id) == made.id)
                           .values(created_at=datetime(2001, 5, 1, tzinfo=UTC)))
        summary.refresh(connection, [made.id])
    return made.id


def _open(signed_in: Callable[[str], AppTest], role: str = "admin") -> AppTest:
    at = signed_in(role)
    at.switch_page(PRIVACY).run()
    assert not at.exception, at.exception
    return at


def test_managers_are_refused(signed_in: Callable[[str], AppTest]) -> None:
    at = _open(signed_in, "manager")
    assert at.error[0].value.startswith("Your role (manager) does not give access")
    assert not at.dataframe and not at.text_input


def test_the_report_follows_the_setting_and_anonymising_needs_the_count(
    signed_in: Callable[[str], AppTest], app_db: Engine
) -> None:
    settings.update(ADMIN, {"retention_years": 30}, engine=app_db)
    first, second = _old_customer(app_db, "Anna"), _old_customer(app_db, "Bert")
    at = _open(signed_in)
    assert at.success[0].value == "No customer is past the retention period."
    assert "for 30 years" in at.caption[1].value
    settings.update(ADMIN, {"retention_years": 10}, engine=app_db)
    at.run()
    shown = at.dataframe[0].value
    assert sorted(shown["Id"]) == [first, second]
    at.text_input(key="retention_confirm").input("3")
    at.button(key="FormSubmitter:retention_anonymise-Anonymise all 2").click().run()
    assert "(2)" in at.error[0].value.replace("\\", "")
    assert at.text_input(key="retention_confirm").value == "3"  # kept as typed
    assert get_customer(ADMIN, first, engine=app_db).first_name == "Anna"
    at.text_input(key="retention_confirm").input("2")
    at.button(key="FormSubmitter:retention_anonymise-Anonymise all 2").click().run()
    assert not at.exception
    assert at.success[0].value == "Anonymised 2 customers past the retention period."
    assert at.success[1].value == "No customer is past the retention period."
    for customer_id in (first, second):
        try:
            get_customer(ADMIN, customer_id, engine=app_db)
        except CustomerErased:
            continue
        raise AssertionError(f"customer {customer_id} was not anonymised")


def test_lifting_an_erased_address(signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    gone = create_customer(ADMIN, {"first_name": "Cora", "last_name": "Gone", "country": "DE",
                                   "email": "cora@example.org"}, engine=app_db)
    erase_customer(ADMIN, gone.id or 0, confirmation="cora@example.org", engine=app_db)
    at = _open(signed_in)
    lift = "FormSubmitter:suppression_lift-Lift the block"
    at.text_input(key="lift_email").input("not an address")
    at.button(key=lift).click().run()
    assert "is not a valid email address" in at.error[0].value.replace("\\", "")
    at.text_input(key="lift_email").input("nobody@example.org")
    at.button(key=lift).click().run()
    assert at.info[0].value == "That address is not on the suppression list."
    at.text_input(key="lift_email").input("CORA@example.org")
    at.button(key=lift).click().run()
    assert at.success[0].value == "Lifted: the address can be added again."
    assert at.text_input(key="lift_email").value == ""
    again = create_customer(ADMIN, {"first_name": "Cora", "last_name": "Back", "country": "DE",
                                    "email": "cora@example.org"}, engine=app_db)
    assert again.email == "cora@example.org"


def test_a_second_click_on_lift_does_not_contradict_the_first(
    signed_in: Callable[[str], AppTest], app_db: Engine
) -> None:
    gone = create_customer(ADMIN, {"first_name": "Dora", "last_name": "Gone", "country": "DE",
                                   "email": "dora@example.org"}, engine=app_db)
    erase_customer(ADMIN, gone.id or 0, confirmation="dora@example.org", engine=app_db)
    at = _open(signed_in)
    lift = "FormSubmitter:suppression_lift-Lift the block"
    for _ in range(2):  # the second click reaches the server with what the first had typed
        at.text_input(key="lift_email").input("dora@example.org")
        at.button(key=lift).click().run()
        assert at.success[0].value == "Lifted: the address can be added again."
        assert not at.info
    at.button(key=lift).click().run()  # an empty field
    assert at.error[0].value == "Type the e-mail address to take off the list."


def test_anonymising_nothing_left_does_not_claim_zero_were_anonymised(
    signed_in: Callable[[str], AppTest], app_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.update(ADMIN, {"retention_years": 1}, engine=app_db)
    _old_customer(app_db, "Emil")
    at = _open(signed_in)
    assert "for 1 year (" in at.caption[1].value
    # A double click: the first click's run did the work while this one was starting.
    monkeypatch.setattr(retention, "anonymise_past_retention", lambda *_, **__: 0)
    at.text_input(key="retention_confirm").input("1")
    at.button(key="FormSubmitter:retention_anonymise-Anonymise all 1").click().run()
    assert at.success[0].value == ("No customer was left to anonymise: those listed were "
                                   "anonymised meanwhile.")


def test_a_click_during_the_lift_does_not_contradict_it(
    signed_in: Callable[[str], AppTest], app_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first click's run is stopped right after the lift committed (a click came)."""
    gone = create_customer(ADMIN, {"first_name": "Edda", "last_name": "Gone", "country": "DE",
                                   "email": "edda@example.org"}, engine=app_db)
    erase_customer(ADMIN, gone.id or 0, confirmation="edda@example.org", engine=app_db)
    lifts = cut_after(monkeypatch, suppression, "lift")
    at = _open(signed_in)
    at.text_input(key="lift_email").input("edda@example.org")
    at.button(key="FormSubmitter:suppression_lift-Lift the block").click().run()  # cut off
    at.button(key="FormSubmitter:suppression_lift-Lift the block").click().run()
    assert lifts == [True, False]
    assert not at.info
    assert at.success[0].value == "Lifted: the address can be added again."


def test_a_slow_report_fills_in_after_the_rest_of_the_page(
        signed_in: Callable[[str], AppTest], app_db: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    old = _old_customer(app_db, "Olga")
    release = threading.Event()
    real = retention.past_retention

    def held(*args: Any, **kwargs: Any) -> retention.RetentionReport:
        release.wait(20)  # as two scans of a million customers keep it waiting
        return real(*args, **kwargs)

    monkeypatch.setattr(retention, "past_retention", held)
    monkeypatch.setattr(background, "PAGE_WAIT_S", 0.0)
    at = _open(signed_in)
    assert at.info[0].value.startswith("Finding the customers past the retention period")
    assert at.text_input(key="lift_email")  # the rest of the page is there
    release.set()
    monkeypatch.setattr(background, "PAGE_WAIT_S", 20.0)
    at.run()  # what the page's poll does once the report is ready
    assert at.dataframe[0].value["Id"].tolist() == [old]
