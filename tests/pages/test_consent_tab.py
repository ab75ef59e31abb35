"""The profile's Consent tab through the real app: grant then withdraw with the same form,
who recorded each row shows in the history, and a refusal keeps what was chosen."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from db.core.access import Actor
from db.customers import consent, restriction
from tests import factories
from tests.factories import ADMIN, MANAGER
from tests.pages.conftest import open_profile

CONSENT_TAB = 4  # Details, Orders, Interactions, Feedback, Consent


@pytest.fixture
def ada(app_db: Engine) -> int:
    customer = factories.customer(app_db, "Ada", "Byron", country="GB")
    assert customer.id is not None
    return customer.id


def _submit(at: AppTest, customer_id: int, **chosen: str) -> None:
    for name, value in chosen.items():
        field = f"consent_{customer_id}_{name}"
        if name == "change":
            at.radio(key=field).set_value(value)
        elif name == "notice":
            at.text_input(key=field).input(value)
        else:
            at.selectbox(key=field).set_value(value)
    at.button(key=f"FormSubmitter:consent_{customer_id}_form-Record").click().run()
    assert not at.exception, at.exception


def _now(at: AppTest) -> dict[str, tuple[str, str, str, str]]:
    frame = at.tabs[CONSENT_TAB].dataframe[0].value
    return {row["Purpose"]: (row["Now"], row["Source"], row["Notice"], row["Recorded by"])
            for row in frame.to_dict("records")}


def test_marketing_grants_then_withdraws_with_one_form(
        signed_in: Callable[[str], AppTest], ada: int, app_db: Engine) -> None:
    at = open_profile(signed_in, "marketing", ada)
    assert _now(at)["sms"] == ("never asked", "", "", "")
    _submit(at, ada, purpose="email_marketing", change="Grant", source="web",
            notice="2026-02")
    assert _now(at)["email marketing"] == ("granted", "website", "2026-02",
                                           "Marketing User (marketing)")
    _submit(at, ada, purpose="email_marketing", change="Withdraw", source="phone")
    assert _now(at)["email marketing"] == ("withdrawn", "phone call", "2026-02",
                                           "Marketing User (marketing)")
    history = at.tabs[CONSENT_TAB].dataframe[1].value
    assert list(history["Change"]) == ["withdrawn", "granted"]
    assert list(history["Recorded by"]) == ["Marketing User (marketing)"] * 2
    assert list(history["Source"]) == ["phone call", "website"]
    assert not at.error
    stored = consent.history(MANAGER, ada, engine=app_db)
    assert [(r.granted, r.source) for r in stored] == [(False, "phone"), (True, "web")]


def test_bad_input_is_refused_beside_the_form_and_kept(
        signed_in: Callable[[str], AppTest], ada: int, app_db: Engine) -> None:
    at = open_profile(signed_in, "manager", ada)
    _submit(at, ada, purpose="sms", change="Withdraw", notice="")
    errors = [error.value.replace("\\", "") for error in at.error]  # shown as Markdown
    assert any(e.startswith("Source: Choose where the consent came from") for e in errors)
    assert any(e.startswith("Notice version: Name the privacy notice") for e in errors)
    assert consent.history(MANAGER, ada, engine=app_db) == []
    assert at.selectbox(key=f"consent_{ada}_purpose").value == "sms"
    assert at.radio(key=f"consent_{ada}_change").value == "Withdraw"
    _submit(at, ada, source="email", notice="2026-02")  # the rest as it was
    [record] = consent.history(MANAGER, ada, engine=app_db)
    assert (record.purpose, record.granted, record.source) == ("sms", False, "email")
    assert record.recorded_by == "Manager User (manager)"


def test_marketing_is_told_of_an_objection_before_recording_consent(
        signed_in: Callable[[str], AppTest], ada: int, app_db: Engine) -> None:
    at = open_profile(signed_in, "marketing", ada)
    assert not at.warning
    restriction.set_marker(ADMIN, ada, "do_not_contact", "Letter of 1 Dec", engine=app_db)
    at = open_profile(signed_in, "marketing", ada)
    assert "objected to contact on" in at.warning[0].value


def test_a_second_record_click_is_told_it_was_recorded_once(
        signed_in: Callable[[str], AppTest], ada: int, app_db: Engine) -> None:
    """The first click committed and the second sends the same change again."""
    at = open_profile(signed_in, "marketing", ada)
    consent.record_consent(Actor("marketing", "marketing"), ada,
                           purpose="sms", granted=True, source="web", notice_version="2026-02",
                           engine=app_db)
    _submit(at, ada, purpose="sms", change="Grant", source="web", notice="2026-02")
    assert any("already recorded" in info.value for info in at.info)
    assert not at.error
    assert len(consent.history(ADMIN, ada, engine=app_db)) == 1
