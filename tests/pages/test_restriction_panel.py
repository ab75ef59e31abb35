"""The profile's objection and restriction markers through the real app: an admin sets and
clears one with a reason (a missing reason is refused, keeping the form), everyone sees the
badge, and only admins get the form."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from db.core.access import Actor
from db.customers import restriction
from db.customers.service import create_customer
from tests.pages.conftest import ROOT, open_profile

ADMIN = Actor("admin", "admin")


@pytest.fixture
def ada(app_db: Engine) -> int:
    customer = create_customer(ADMIN, {"first_name": "Ada", "last_name": "Byron",
                                       "country": "GB"}, engine=app_db)
    assert customer.id is not None
    return customer.id


def _badges(at: AppTest) -> list[str]:
    return [e.value for e in at.error if "since" in e.value]


def _reason_keys(at: AppTest, customer_id: int) -> list[str]:
    return [w.key for w in at.text_input
            if w.key and w.key.startswith(f"restriction_{customer_id}_")]


def _submit(at: AppTest, customer_id: int, kind: str, reason: str, verb: str) -> None:
    form = next(key for key in _reason_keys(at, customer_id)
                if key.startswith(f"restriction_{customer_id}_{kind}_"))
    at.text_input(key=form).input(reason)
    at.button(key=f"FormSubmitter:{form.removesuffix('_reason')}-{verb} marker").click().run()
    assert not at.exception, at.exception


def test_an_admin_sets_and_clears_a_marker_with_a_reason(
        signed_in: Callable[[str], AppTest], ada: int, app_db: Engine) -> None:
    at = open_profile(signed_in, "admin", ada)
    assert _badges(at) == []
    _submit(at, ada, "do_not_contact", "   ", "Set")
    assert any("Give a reason" in e.value for e in at.error)
    assert restriction.current(ADMIN, ada, engine=app_db) == {}
    _submit(at, ada, "do_not_contact", "Letter of 1 Dec", "Set")
    [badge] = _badges(at)
    assert "Do not contact" in badge and "Letter of 1 Dec" in badge
    assert any("recorded in the audit trail" in s.value for s in at.success)
    assert set(restriction.current(ADMIN, ada, engine=app_db)) == {"do_not_contact"}
    _submit(at, ada, "do_not_contact", "Withdrew it by phone", "Clear")
    assert _badges(at) == []
    [period] = restriction.history(ADMIN, ada, engine=app_db)
    assert (period.clear_reason, period.cleared_by) == ("Withdrew it by phone", "admin")


def test_a_manager_sees_the_badge_but_no_form(
        signed_in: Callable[[str], AppTest], ada: int, app_db: Engine) -> None:
    restriction.set_marker(ADMIN, ada, "restricted", "Disputes her address", engine=app_db)
    at = open_profile(signed_in, "manager", ada)
    [badge] = _badges(at)
    assert "Restricted processing" in badge and "Disputes her address" in badge
    assert _reason_keys(at, ada) == []
    assert not [e for e in at.expander if "Objection" in e.label]


def test_lookup_shows_the_marker_and_the_export_says_who_was_left_out(
        signed_in: Callable[[str], AppTest], ada: int, app_db: Engine) -> None:
    other = create_customer(ADMIN, {"first_name": "Ben", "last_name": "Byron",
                                    "country": "GB"}, engine=app_db)
    restriction.set_marker(ADMIN, ada, "do_not_contact", "Objected", engine=app_db)
    at = signed_in("admin")
    at.switch_page(str(ROOT / "pages" / "lookup.py")).run()
    at.text_input[0].input("byron").run()
    shown = at.dataframe[0].value.set_index("Id")["Marker"].to_dict()
    assert shown == {ada: "do not contact", other.id: ""}
    at.checkbox(key="lookup_export_everyone").check().run()
    at.button(key="lookup_export_prepare").click().run()
    assert not at.exception and not at.error
    texts = [t.value for t in at.text]
    assert "1 of 2 results are in the file, with or without e-mail marketing consent " \
           "(recorded in the audit trail)." in texts
    assert any(t.startswith("Left out of this file: 1 who objected") for t in texts)


def _tabs_position(at: AppTest) -> int:
    """Where the profile's tabs sit among the page's top-level elements: the browser keeps
    the open tab across a rerun only while this stays the same."""
    return next(index for index, child in at.main.children.items()
                if child.type == "tab_container")


def test_setting_a_marker_leaves_the_tabs_where_they_were(
        signed_in: Callable[[str], AppTest], ada: int) -> None:
    at = open_profile(signed_in, "admin", ada)
    before = _tabs_position(at)
    _submit(at, ada, "do_not_contact", "Letter of 1 Dec", "Set")
    _submit(at, ada, "restricted", "Disputes the address", "Set")
    assert len(_badges(at)) == 2
    assert _tabs_position(at) == before
