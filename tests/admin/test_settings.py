"""Settings in the database: defaults until an admin stores a value, a message per refused
setting, one audit event per change, admins only."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from db.admin import settings
from db.admin.models import AppSetting
from db.admin.settings import AppSettings
from db.core.access import Actor, PermissionDenied
from db.core.fields import InvalidFields
from db.models import AuditEvent
from tests.factories import ADMIN, MANAGER, MARKETING


def _events(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent)
                                 .where(AuditEvent.action == "settings.update")
                                 .order_by(AuditEvent.id)))


def test_a_new_database_has_the_defaults(engine: Engine) -> None:
    assert settings.current(engine=engine) == AppSettings(
        company_name="", house_currency="EUR", stale_after_days=180, retention_years=6,
        sign_in_delay_after=3, longest_sign_in_delay_minutes=15, monthly_discount_rate=0.01)
    assert settings.last_change(engine=engine) is None


def test_update_stores_normalised_values_and_keeps_the_rest(engine: Engine) -> None:
    stored = settings.update(ADMIN, {"company_name": "  Acme GmbH ", "house_currency": " chf",
                                     "stale_after_days": "365"}, engine=engine)
    assert stored == settings.current(engine=engine) == AppSettings(
        company_name="Acme GmbH", house_currency="CHF", stale_after_days=365)
    change = settings.last_change(engine=engine)
    assert change is not None and change.by == ADMIN.username


def test_one_audit_event_with_old_and_new_per_changed_setting(engine: Engine) -> None:
    settings.update(ADMIN, {"retention_years": 10, "house_currency": "EUR"}, engine=engine)
    settings.update(ADMIN, {"retention_years": 8, "house_currency": "USD",
                            "company_name": ""}, engine=engine)
    events = _events(engine)
    assert [json.loads(e.changes) for e in events] == [
        {"retention_years": [6, 10]},  # EUR was the house currency already
        {"retention_years": [10, 8], "house_currency": ["EUR", "USD"]}]
    assert {(e.actor, e.entity, e.source) for e in events} == {(ADMIN.username, "settings",
                                                                "form")}


def test_nothing_changed_writes_nothing(engine: Engine) -> None:
    unchanged = settings.update(ADMIN, {"house_currency": "eur", "stale_after_days": 180},
                                engine=engine)
    assert unchanged == settings.DEFAULTS
    assert _events(engine) == []
    with Session(engine) as session:
        assert session.exec(select(AppSetting)).all() == []


@pytest.mark.parametrize(("name", "value", "message"), [
    ("house_currency", "euro", "House currency: 'euro' is not a currency"),
    ("house_currency", "XYZ", "House currency: 'XYZ' is not a currency"),
    ("stale_after_days", "two years", "Stale after (days): A whole number from 30 to 3650"),
    ("stale_after_days", 0, "Stale after (days): A whole number from 30 to 3650"),
    ("retention_years", 2.5, "Retention period (years): A whole number from 1 to 30"),
    ("retention_years", True, "Retention period (years): A whole number from 1 to 30"),
    ("sign_in_delay_after", "-1", "Failed sign-ins before delays start: A whole number"),
    ("longest_sign_in_delay_minutes", 1441, "Longest sign-in delay (minutes): A whole number"
                                            " from 1 to 1440"),
    ("monthly_discount_rate", "0.2", "Monthly discount rate: A rate from 0 to 0.1"),
    ("monthly_discount_rate", "-1%", "Monthly discount rate: A rate from 0 to 0.1"),
    ("monthly_discount_rate", "soon", "Monthly discount rate: A rate from 0 to 0.1"),
    ("monthly_discount_rate", float("nan"), "Monthly discount rate: A rate from 0 to 0.1"),
    ("company_name", "Acme\x1b[31m", "Company name: "),
    ("company_name", "x" * 101, "Company name: At most 100 characters (101 typed)."),
    ("colour", "blue", "There is no setting 'colour'."),
])
def test_each_refused_value_is_named_and_nothing_is_stored(
        engine: Engine, name: str, value: object, message: str) -> None:
    with pytest.raises(InvalidFields) as refused:
        settings.update(ADMIN, {"company_name": "Acme", name: value}, engine=engine)
    assert list(refused.value.errors) == [name]
    assert refused.value.errors[name].startswith(message)
    assert settings.current(engine=engine) == settings.DEFAULTS
    assert _events(engine) == []


def test_every_refused_setting_gets_its_own_message(engine: Engine) -> None:
    with pytest.raises(InvalidFields) as refused:
        settings.update(ADMIN, {"house_currency": "", "retention_years": "0",
                                "sign_in_delay_after": "3"}, engine=engine)
    assert set(refused.value.errors) == {"house_currency", "retention_years"}


@pytest.mark.parametrize("actor", [MANAGER, MARKETING])
def test_only_admins_change_settings(engine: Engine, actor: Actor) -> None:
    with pytest.raises(PermissionDenied):
        settings.update(actor, {"company_name": "Mine"}, engine=engine)
    assert settings.current(engine=engine) == settings.DEFAULTS


def test_a_value_stored_around_the_app_that_breaks_its_rule_reads_as_the_default(
        engine: Engine) -> None:
    settings.update(ADMIN, {"sign_in_delay_after": 5, "retention_years": 7}, engine=engine)
    with Session(engine) as session:
        row = session.get(AppSetting, "sign_in_delay_after")
        assert row is not None
        row.value = json.dumps(0)
        session.add(row)
        session.commit()
    assert settings.current(engine=engine) == AppSettings(retention_years=7)


@pytest.mark.parametrize(("typed", "stored"), [("0.02", 0.02), ("1,5 %", 0.015), (0, 0.0)])
def test_the_discount_rate_takes_a_fraction_or_a_percentage(
        engine: Engine, typed: object, stored: float) -> None:
    settings.update(ADMIN, {"monthly_discount_rate": typed}, engine=engine)
    assert settings.current(engine=engine).monthly_discount_rate == pytest.approx(stored)
