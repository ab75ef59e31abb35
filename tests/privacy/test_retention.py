"""The retention report's boundaries, and the bulk anonymisation it leads to."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, update
from sqlmodel import col

from db.audit import trail
from db.core.access import PermissionDenied
from db.customers.service import CustomerErased, get_customer, soft_delete_customer
from db.derived import summary
from db.models import Customer
from db.privacy.erasure import erase_customer
from db.privacy.retention import (
    RetentionRefused,
    anonymise_past_retention,
    cutoff,
    past_retention,
)
from tests import factories
from tests.factories import ADMIN, MANAGER

TODAY = date(2026, 6, 15)
CUT = datetime(2024, 6, 15, tzinfo=UTC)  # two years before TODAY
LONG_AGO = datetime(2020, 1, 1, 9, tzinfo=UTC)


def _customer(engine: Engine, name: str, created: datetime = LONG_AGO, **fields: str) -> int:
    made = factories.customer(engine, name, "Example", **fields)
    assert made.id is not None
    with engine.begin() as connection:
        connection.execute(update(Customer).where(col(Customer.id) == made.id)
                           .values(created_at=created))
        summary.refresh(connection, [made.id])
    return made.id


def test_the_cutoff_is_the_same_day_years_ago_and_on_it_is_still_kept(engine: Engine) -> None:
    assert cutoff(2, TODAY) == CUT
    assert cutoff(1, date(2028, 2, 29)) == datetime(2027, 2, 28, tzinfo=UTC)
    with pytest.raises(RetentionRefused):
        cutoff(0, TODAY)
    quiet = _customer(engine, "Quiet")
    on_cut = _customer(engine, "OnCut")
    factories.order(engine, on_cut, ordered_at=CUT)
    second_before = _customer(engine, "Before")
    factories.order(engine, second_before, ordered_at=CUT - timedelta(seconds=1))
    contacted = _customer(engine, "Called")
    factories.contact(engine, contacted, at=CUT)
    _customer(engine, "Recent", created=CUT)
    deleted = _customer(engine, "Gone")
    soft_delete_customer(ADMIN, deleted, engine=engine)
    erased = _customer(engine, "Erased")
    erase_customer(ADMIN, erased, confirmation=str(erased), engine=engine)
    report = past_retention(ADMIN, years=2, today=TODAY, engine=engine)
    assert report.cutoff == CUT and report.total == 3
    assert {(c.id, c.deleted) for c in report.customers} == {
        (quiet, False), (second_before, False), (deleted, True)}
    assert report.customers[-1].id == second_before  # the longest inactive come first
    assert report.customers[-1].last_activity == CUT - timedelta(seconds=1)


def test_anonymising_needs_the_count_and_does_not_suppress(engine: Engine) -> None:
    quiet = _customer(engine, "Quiet", email="quiet@example.org")
    active = _customer(engine, "Active")
    factories.order(engine, active, ordered_at=CUT + timedelta(days=1))
    with pytest.raises(PermissionDenied):
        past_retention(MANAGER, years=2, today=TODAY, engine=engine)
    with pytest.raises(PermissionDenied):
        anonymise_past_retention(MANAGER, years=2, confirmation="1", today=TODAY,
                                 engine=engine)
    with pytest.raises(RetentionRefused, match=r"\(1\)"):
        anonymise_past_retention(ADMIN, years=2, confirmation="2", today=TODAY, engine=engine)
    assert get_customer(ADMIN, quiet, engine=engine).email == "quiet@example.org"
    assert anonymise_past_retention(ADMIN, years=2, confirmation=" 1 ", today=TODAY,
                                    engine=engine) == 1
    with pytest.raises(CustomerErased):
        get_customer(ADMIN, quiet, engine=engine)
    assert get_customer(ADMIN, active, engine=engine).first_name == "Active"
    assert past_retention(ADMIN, years=2, today=TODAY, engine=engine).total == 0
    # Not a request to be forgotten: the address may come back as a new customer.
    assert factories.customer(engine, "Quiet", "Again", email="quiet@example.org").id
    report = trail.verify(ADMIN, engine=engine)
    assert report.ok and report.redacted >= 1
