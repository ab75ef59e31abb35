"""The admin's Settings page through the real app: every setting in one form, refusals
beside their fields with everything typed kept, a toast and who changed them last; and the
app following the settings (company name, the order form's house currency)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from db.admin import settings
from db.admin.settings import AppSettings
from db.models import AuditEvent
from tests import factories
from tests.factories import ADMIN
from tests.pages.conftest import ROOT, open_profile

SETTINGS_PAGE = str(ROOT / "pages" / "settings.py")
SAVE = "FormSubmitter:settings-Save settings"


def _open(signed_in: Callable[[str], AppTest], role: str = "admin") -> AppTest:
    at = signed_in(role)
    at.switch_page(SETTINGS_PAGE).run()
    assert not at.exception, at.exception
    return at


def _field(at: AppTest, name: str) -> str:
    return str(at.text_input(key=f"setting_{name}").value)


def _type(at: AppTest, **typed: str) -> None:
    for name, value in typed.items():
        at.text_input(key=f"setting_{name}").input(value)
    at.button(key=SAVE).click().run()
    assert not at.exception, at.exception


def test_the_form_shows_the_defaults_and_that_nobody_changed_them(
        signed_in: Callable[[str], AppTest]) -> None:
    at = _open(signed_in)
    assert {name: _field(at, name) for name in settings.NAMES} == {
        "company_name": "", "house_currency": "EUR", "stale_after_days": "180",
        "retention_years": "6", "sign_in_delay_after": "3",
        "longest_sign_in_delay_minutes": "15", "monthly_discount_rate": "0.01"}
    assert "nobody has changed one yet" in at.caption[-1].value


def test_saving_stores_the_values_toasts_and_names_who_changed_them(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    at = _open(signed_in)
    _type(at, company_name="  Acme *GmbH* ", house_currency="chf", retention_years="10")
    assert not at.error
    assert [t.value for t in at.toast] == ["Settings saved."]
    assert settings.current(engine=app_db) == AppSettings(
        company_name="Acme *GmbH*", house_currency="CHF", retention_years=10)
    assert (_field(at, "company_name"), _field(at, "house_currency")) == ("Acme *GmbH*", "CHF")
    assert "Last changed by admin on " in at.caption[-1].value
    with Session(app_db) as session:
        event = session.exec(select(AuditEvent)
                             .where(AuditEvent.action == "settings.update")).one()
    assert json.loads(event.changes) == {"company_name": ["", "Acme *GmbH*"],
                                         "house_currency": ["EUR", "CHF"],
                                         "retention_years": [6, 10]}
    # The company name heads the menu, as typed (not as Markdown).
    assert "Acme *GmbH*" in [t.value for t in at.sidebar.text]


def test_refused_values_are_explained_beside_their_fields_and_kept(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    at = _open(signed_in)
    _type(at, company_name="Acme", house_currency="euro", stale_after_days="two years",
          sign_in_delay_after="0")
    errors = [e.value.replace("\\", "") for e in at.error]  # shown escaped, as plain text
    assert len(errors) == 3
    assert "House currency" in errors[0] and "not a currency" in errors[0]
    assert "Stale after (days)" in errors[1] and "30 to 3650" in errors[1]
    assert "Failed sign" in errors[2] and "1 to 20" in errors[2]
    assert [_field(at, name) for name in ("company_name", "house_currency",
                                          "stale_after_days", "sign_in_delay_after")] == [
        "Acme", "euro", "two years", "0"]
    assert not at.toast
    assert settings.current(engine=app_db) == settings.DEFAULTS  # nothing stored

    _type(at, house_currency="usd", stale_after_days="365", sign_in_delay_after="5")
    assert not at.error
    assert settings.current(engine=app_db) == AppSettings(
        company_name="Acme", house_currency="USD", stale_after_days=365,
        sign_in_delay_after=5)


def test_a_setting_another_admin_changed_meanwhile_is_not_put_back(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    at = _open(signed_in)
    settings.update(ADMIN, {"retention_years": 9}, engine=app_db)
    _type(at, company_name="Acme")
    assert settings.current(engine=app_db) == AppSettings(company_name="Acme",
                                                          retention_years=9)


@pytest.mark.parametrize("role", ["manager", "marketing"])
def test_other_roles_are_refused(signed_in: Callable[[str], AppTest], role: str) -> None:
    at = _open(signed_in, role)
    assert "does not give access to Settings" in at.error[0].value
    assert not at.text_input


def test_the_order_form_starts_from_the_house_currency(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    settings.update(ADMIN, {"house_currency": "CHF"}, engine=app_db)
    customer = factories.customer(app_db, "Ada", "Byron", country="CH")
    assert customer.id is not None
    at = open_profile(signed_in, "manager", customer.id)
    assert at.text_input(key=f"order_{customer.id}_currency").value == "CHF"
