"""The profile's Privacy tab through the real app: admins build a subject access request and
get its zip; other roles do not see the tab."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from dashboard import privacy_tab
from db.core.access import Actor
from db.core.engine import DatabaseBusy
from db.customers.service import create_customer
from db.models import AuditEvent
from db.privacy.access_request import PARTS, AccessRequest
from tests.pages.conftest import open_profile

SETUP = Actor("setup", "admin")


@pytest.fixture
def grace(app_db: Engine) -> int:
    customer = create_customer(SETUP, {"first_name": "Grace", "last_name": "Hopper",
                                       "country": "US", "email": "grace@example.org"},
                               engine=app_db)
    assert customer.id is not None
    return customer.id


def _tab_labels(at: AppTest) -> list[str]:
    return [tab.label for tab in at.tabs]


def test_admin_builds_the_request_and_gets_a_zip_of_every_part(
        signed_in: Callable[[str], AppTest], grace: int, app_db: Engine) -> None:
    at = open_profile(signed_in, "admin", grace)
    assert "Privacy" in _tab_labels(at)
    assert "Subject access request" in [header.value for header in at.subheader]
    assert not at.get("download_button")
    at.button(key=f"access_request_{grace}_build").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    [download] = at.get("download_button")
    made: AccessRequest = at.session_state[f"access_request_{grace}"]
    assert made.filename in str(download.proto.label)
    with zipfile.ZipFile(io.BytesIO(made.data)) as archive:
        names = set(archive.namelist())
        profile = json.loads(archive.read("profile.json"))
    assert names == {"README.txt", *(f"{part}.{ext}" for part in PARTS
                                     for ext in ("json", "csv"))}
    assert profile[0]["email"] == "grace@example.org"
    with Session(app_db) as session:
        event = session.execute(select(AuditEvent).where(
            AuditEvent.action == "customer.access_request")).scalar_one()
    assert (event.actor, event.entity_id) == ("admin", str(grace))


def test_a_failed_request_says_so_and_offers_nothing(
        signed_in: Callable[[str], AppTest], grace: int, app_db: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_profile(signed_in, "admin", grace)

    def busy(*_args: object, **_kwargs: object) -> AccessRequest:
        raise DatabaseBusy("The database is busy; nothing was saved.")

    monkeypatch.setattr(privacy_tab, "access_request", busy)
    at.button(key=f"access_request_{grace}_build").click().run()
    assert not at.exception
    assert any("could not be built" in error.value for error in at.error)
    assert not at.get("download_button")


@pytest.mark.parametrize("role", ["manager", "marketing"])
def test_other_roles_do_not_see_the_tab(signed_in: Callable[[str], AppTest], grace: int,
                                        role: str) -> None:
    at = open_profile(signed_in, role, grace)
    assert "Privacy" not in _tab_labels(at)
    assert "Subject access request" not in [header.value for header in at.subheader]
