"""Lookup and the customer profile through the real app: search, open, edit, conflicts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from dashboard.text import plain
from db.core import types
from db.core.access import Actor
from db.core.types import utcnow
from db.customers import profile
from db.customers.profile import record_consent
from db.customers.service import (
    create_customer,
    get_customer,
    soft_delete_customer,
    update_customer,
)
from db.models import Customer
from db.quality.merge import merge_customers, merge_plan
from db.search import ranking
from tests.pages.conftest import PROFILE, ROOT, open_profile

LOOKUP = str(ROOT / "pages" / "lookup.py")
MANAGER = Actor("manager", "manager")
ADMIN = Actor("admin", "admin")


@pytest.fixture
def john(app_db: Engine) -> int:
    customer = create_customer(MANAGER, {
        "first_name": "John", "last_name": "Smith", "email": "john@example.com",
        "phone": "020 7946 0958", "country": "GB", "city": "London"}, engine=app_db)
    create_customer(MANAGER, {"first_name": "Mary", "last_name": "Jones", "country": "DE",
                              "city": "Berlin"}, engine=app_db)
    assert customer.id is not None
    return customer.id


def _form(at: AppTest, customer_id: int) -> str:
    """The key of the edit form as the page drew it last (it changes on each fresh fill)."""
    return f"edit_{customer_id}_{at.session_state[f'edit_generation_{customer_id}']}"


def _field(at: AppTest, customer_id: int, name: str):  # type: ignore[no-untyped-def]
    return at.text_input(key=f"{_form(at, customer_id)}_{name}")


def _submit(at: AppTest, customer_id: int):  # type: ignore[no-untyped-def]
    return at.button(key=f"{_form(at, customer_id)}_save")


def _save(at: AppTest, customer_id: int) -> None:
    _submit(at, customer_id).click().run()


def test_search_with_a_typo_lists_the_customer_and_why(signed_in: Callable[[str], AppTest],
                                                       john: int) -> None:
    at = signed_in("marketing")
    at.switch_page(LOOKUP).run()
    at.text_input[0].input("jonh smiht").run()
    assert not at.exception
    results = at.dataframe[0].value
    assert results.iloc[0]["Name"] == "John Smith"
    assert results.iloc[0]["Why"].startswith("similar name")
    assert at.query_params["q"] == "jonh smiht"


def test_every_search_in_a_row_sticks_and_follows_in_the_link(
    signed_in: Callable[[str], AppTest], app_db: Engine
) -> None:
    surnames = ["Steckel", "Hamann", "Zorn", "Quast", "Ebert"]
    for surname in surnames:
        create_customer(MANAGER, {"first_name": "Eva", "last_name": surname, "country": "DE"},
                        engine=app_db)
    at = signed_in("manager")
    at.switch_page(LOOKUP).run()
    for surname in surnames:
        at.text_input[0].input(surname).run()
        assert at.text_input[0].value == surname
        assert at.query_params["q"] == surname
        assert at.dataframe[0].value["Name"].tolist() == [f"Eva {surname}"]


def test_a_link_with_a_search_fills_the_box_and_a_changed_link_replaces_it(
    signed_in: Callable[[str], AppTest], john: int
) -> None:
    at = signed_in("manager")
    at.query_params["q"] = "smith"
    at.switch_page(LOOKUP).run()
    assert at.text_input[0].value == "smith"
    assert at.dataframe[0].value["Name"].tolist() == ["John Smith"]
    at.query_params["q"] = "jones"  # the back button or another shared link
    at.run()
    assert at.text_input[0].value == "jones"
    assert at.dataframe[0].value["Name"].tolist() == ["Mary Jones"]


def test_a_link_longer_than_the_box_takes_is_cut_to_it(signed_in: Callable[[str], AppTest],
                                                       john: int) -> None:
    """A shared link's search is held to the box's 200 characters, as typing is: the box,
    the search and the message all show the same text (a 300-character link overfilled
    the box while the search used 200)."""
    at = signed_in("manager")
    at.query_params["q"] = "x" * 300
    at.switch_page(LOOKUP).run()
    assert at.text_input[0].value == "x" * 200
    assert at.info[0].value == f"No customer matches {'x' * 200}."
    assert at.query_params["q"] == "x" * 200


def test_back_from_a_profile_opened_here_shows_the_search_again(
        signed_in: Callable[[str], AppTest], john: int) -> None:
    """The browser's Back from a profile opened from the results lands on the step
    Streamlit left in the history, Lookup with the profile's link and no ?q= (found in
    Chromium: the box was emptied and every customer listed)."""
    at = signed_in("manager")
    at.switch_page(LOOKUP).run()
    at.text_input[0].input("smith").run()
    at.query_params.clear()
    at.query_params["customer"] = str(john)  # Back, to /lookup?customer=…
    at.run()
    assert at.text_input[0].value == "smith"
    assert at.query_params["q"] == "smith"
    assert "customer" not in at.query_params
    assert at.dataframe[0].value["Name"].tolist() == ["John Smith"]


def test_what_was_typed_wins_over_a_link_the_browser_has_not_updated_yet(
    signed_in: Callable[[str], AppTest], john: int
) -> None:
    """Typing fast, the next search reaches the server before the browser has taken the link
    of the one before (found in Chromium: the box went back to the search before last)."""
    at = signed_in("manager")
    at.switch_page(LOOKUP).run()
    at.text_input[0].input("smith").run()
    at.text_input[0].input("").run()
    at.query_params["q"] = "smith"  # the emptied link has not reached the browser yet
    at.text_input[0].input("jones").run()
    assert at.text_input[0].value == "jones" and at.query_params["q"] == "jones"
    assert at.dataframe[0].value["Name"].tolist() == ["Mary Jones"]


def _shown(at: AppTest) -> tuple[str, list[str]]:
    """The "Showing … of …" line and the names listed."""
    count = next(t.value for t in at.text if t.value.startswith("Showing"))
    return count, at.dataframe[0].value["Name"].tolist()


def test_lookup_says_how_many_match_and_pages_through_them(
    signed_in: Callable[[str], AppTest], app_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ranking, "PAGE_SIZE", 2)
    for first, country in [("Ada", "DE"), ("Ben", "DE"), ("Cem", "DE"), ("Dora", "AT"),
                           ("Emil", "AT")]:
        create_customer(MANAGER, {"first_name": first, "last_name": "Pager",
                                  "country": country}, engine=app_db)
    at = signed_in("manager")
    at.switch_page(LOOKUP).run()
    at.text_input[0].input("pager").run()
    assert _shown(at) == ("Showing 1–2 of 5", ["Ada Pager", "Ben Pager"])
    assert at.button(key="lookup_previous").disabled
    at.button(key="lookup_next").click().run()
    assert _shown(at) == ("Showing 3–4 of 5", ["Cem Pager", "Dora Pager"])
    at.button(key="lookup_next").click().run()
    assert _shown(at) == ("Showing 5 of 5", ["Emil Pager"])
    assert at.button(key="lookup_next").disabled
    at.button(key="lookup_previous").click().run()
    assert _shown(at)[0] == "Showing 3–4 of 5"
    at.selectbox[0].select("DE").run()  # a new filter starts again at page 1
    assert _shown(at) == ("Showing 1–2 of 3", ["Ada Pager", "Ben Pager"])
    at.button(key="lookup_next").click().run()
    assert _shown(at) == ("Showing 3 of 3", ["Cem Pager"])
    at.text_input[0].input("page").run()  # and so does a new term
    assert _shown(at) == ("Showing 1–2 of 3", ["Ada Pager", "Ben Pager"])


def test_a_count_that_stops_says_more_than_and_asks_to_narrow(
    signed_in: Callable[[str], AppTest], app_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ranking, "PAGE_SIZE", 2)
    monkeypatch.setattr(ranking, "COUNTED", 3)
    for first in ("Ada", "Ben", "Cem", "Dora", "Emil"):
        create_customer(MANAGER, {"first_name": first, "last_name": "Pager", "country": "DE"},
                        engine=app_db)
    at = signed_in("marketing")
    at.switch_page(LOOKUP).run()
    at.text_input[0].input("pager").run()
    assert _shown(at)[0] == "Showing 1–2 of more than 3"
    assert at.caption[0].value.startswith("Only the first 3 can be listed")
    at.button(key="lookup_next").click().run()
    assert _shown(at) == ("Showing 3 of more than 3", ["Cem Pager"])
    assert at.button(key="lookup_next").disabled


def _prepare_export(at: AppTest) -> tuple[str, str]:
    """Click "Prepare export": the note on what the file holds and the download's label."""
    at.button(key="lookup_export_prepare").click().run()
    assert not at.exception and not at.error
    note = next(t.value for t in at.text if "in the file" in t.value)
    return note, at.get("download_button")[0].proto.label


def test_lookup_exports_consented_results_and_says_who_was_left_out(
    signed_in: Callable[[str], AppTest], app_db: Engine
) -> None:
    admin = Actor("admin", "admin")
    for first in ("Ada", "Ben", "Cem"):
        made = create_customer(MANAGER, {"first_name": first, "last_name": "Pager",
                                         "country": "DE", "email": f"{first}@example.com"},
                               engine=app_db)
        if first != "Cem":
            profile.record_consent(admin, made.id, purpose="email_marketing", granted=True,
                                   source="form", notice_version="v1", engine=app_db)
    at = signed_in("marketing")
    at.switch_page(LOOKUP).run()
    at.text_input[0].input("pager").run()
    assert not [c for c in at.checkbox if c.key == "lookup_export_everyone"]
    note, label = _prepare_export(at)
    assert note == "2 of 3 results have e-mail marketing consent; only they are in the file."
    assert label.startswith("Download lookup-") and label.endswith(".csv (2 customers)")

    at = signed_in("admin")
    at.switch_page(LOOKUP).run()
    at.text_input[0].input("pager").run()
    at.radio(key="lookup_export_format").set_value("xlsx")
    at.checkbox(key="lookup_export_everyone").check().run()
    note, label = _prepare_export(at)
    assert note.startswith("All 3 results are in the file")
    assert label.endswith(".xlsx (3 customers)")


def test_no_match_says_so(signed_in: Callable[[str], AppTest], john: int) -> None:
    at = signed_in("manager")
    at.switch_page(LOOKUP).run()
    at.text_input[0].input("zzzzqqq").run()
    assert at.info[0].value == "No customer matches zzzzqqq."


def test_profile_shows_the_customer(signed_in: Callable[[str], AppTest], john: int) -> None:
    at = open_profile(signed_in, "manager", john)
    assert at.title[0].value == "John Smith"
    assert "E-mail: john@example.com" in at.text[1].value
    assert [m.label for m in at.metric][:2] == ["Lifetime value", "Orders"]
    assert [t.label for t in at.tabs] == ["Details", "Orders", "Interactions", "Feedback",
                                          "Consent", "Payment methods", "History"]


def test_edit_then_history_shows_old_and_new(signed_in: Callable[[str], AppTest],
                                             john: int) -> None:
    at = open_profile(signed_in, "manager", john)
    _field(at, john, "city").input("Leeds")
    _save(at, john)
    assert not at.exception
    assert _field(at, john, "city").value == "Leeds"
    history = at.tabs[6].dataframe[0].value
    change = history[history["Field"] == "city"].iloc[0]
    assert (change["Old"], change["New"], change["By"]) == ("London", "Leeds", "manager")


def test_invalid_input_is_shown_beside_the_field_and_kept(signed_in: Callable[[str], AppTest],
                                                          john: int) -> None:
    at = open_profile(signed_in, "manager", john)
    _field(at, john, "email").input("not-an-email")
    _field(at, john, "city").input("Leeds")
    _save(at, john)
    assert any("not a valid email" in e.value.replace("\\", "") for e in at.error)
    assert _field(at, john, "email").value == "not-an-email"
    assert _field(at, john, "city").value == "Leeds"
    fresh = open_profile(signed_in, "admin", john)
    assert _field(fresh, john, "city").value == "London"  # nothing was saved


def test_a_stale_save_shows_who_changed_what(signed_in: Callable[[str], AppTest],
                                             john: int, app_db: Engine) -> None:
    at = open_profile(signed_in, "manager", john)
    update_customer(Actor("admin", "admin"), john, 1, {"city": "York"}, engine=app_db)
    _field(at, john, "city").input("Leeds")
    _save(at, john)
    assert at.error[0].value.startswith("Someone saved this customer after you opened it")
    conflict = at.dataframe[0].value
    assert conflict.iloc[0][["By", "Field", "Old", "New"]].tolist() == [
        "admin", "city", "London", "York"]
    next(b for b in at.button if b.label == "Reload the latest version").click().run()
    assert _field(at, john, "city").value == "York"


def test_a_save_after_a_merge_elsewhere_says_what_was_not_saved(
        signed_in: Callable[[str], AppTest], john: int, app_db: Engine) -> None:
    """Merged into another record while the form was open: the survivor opens, and the
    change the user sent is named as not saved, not dropped without a word."""
    twin = create_customer(MANAGER, {"first_name": "John", "last_name": "Smith",
                                     "country": "GB", "city": "Bath"}, confirm=True,
                           engine=app_db).id
    assert twin is not None
    at = open_profile(signed_in, "manager", twin)
    plan = merge_plan(MANAGER, john, twin, engine=app_db)
    merge_customers(MANAGER, survivor_id=john, merged_id=twin,
                    survivor_version=plan.survivor_version,
                    merged_version=plan.merged_version, engine=app_db)
    _field(at, twin, "city").input("Tab two")
    _save(at, twin)
    assert at.query_params["customer"] == str(john)
    assert [w.value for w in at.warning] == [plain(
        f"Customer {twin} was merged into this customer before your changes were saved: "
        "they were not saved. City: “Tab two”. Enter them here if they still apply.")]
    assert get_customer(MANAGER, john, engine=app_db).city == "London"
    at.run()  # said once
    assert not at.warning


def test_a_save_after_a_deletion_elsewhere_says_what_was_not_saved(
        signed_in: Callable[[str], AppTest], john: int, app_db: Engine) -> None:
    at = open_profile(signed_in, "manager", john)
    soft_delete_customer(ADMIN, john, engine=app_db)
    _field(at, john, "city").input("Tab two")
    _field(at, john, "first_name").input("Jon")
    _save(at, john)
    assert "eleted" in at.title[0].value
    assert at.warning[-1].value == plain("Your changes were not saved: First name: “Jon”; "
                                         "City: “Tab two”.")
    with Session(app_db) as session:
        stored = session.get(Customer, john)
        assert stored is not None and stored.city == "London"


def test_marketing_sees_no_cards_or_history_and_edits_preferences_only(
    signed_in: Callable[[str], AppTest], john: int
) -> None:
    at = open_profile(signed_in, "marketing", john)
    assert [t.label for t in at.tabs] == ["Details", "Orders", "Interactions", "Feedback",
                                          "Consent"]
    assert _field(at, john, "city").disabled
    channel = at.selectbox(key=f"{_form(at, john)}_preferred_channel")
    assert not channel.disabled
    channel.select("sms")
    _save(at, john)
    assert not at.exception and not at.error
    assert at.selectbox(key=f"{_form(at, john)}_preferred_channel").value == "sms"


def test_html_in_a_name_is_shown_as_text(signed_in: Callable[[str], AppTest],
                                         app_db: Engine) -> None:
    hostile = create_customer(MANAGER, {"first_name": "<img src=x onerror=alert(1)>",
                                        "last_name": "**Bold**", "country": "GB"},
                              engine=app_db)
    at = open_profile(signed_in, "manager", hostile.id)
    assert at.title[0].value == r"\<img src\=x onerror\=alert\(1\)\> \*\*Bold\*\*"
    assert _field(at, hostile.id, "first_name").value == "<img src=x onerror=alert(1)>"


def test_unknown_customer_points_back_to_lookup(signed_in: Callable[[str], AppTest],
                                                app_db: Engine) -> None:
    at = open_profile(signed_in, "manager", 999)
    assert at.warning[0].value == "There is no customer 999."


def test_admins_soft_delete_and_the_customer_leaves_lookup(signed_in: Callable[[str], AppTest],
                                                          john: int) -> None:
    manager = open_profile(signed_in, "manager", john)
    assert all(not b.label.startswith("Delete customer") for b in manager.button)
    at = open_profile(signed_in, "admin", john)
    at.button(key=f"delete_{john}").click().run()
    at.button(key=f"delete_yes_{john}").click().run()
    assert not at.exception
    assert at.title[0].value == "John Smith \\(deleted\\)"
    at.switch_page(LOOKUP).run()
    at.text_input[0].input("john smith").run()
    names = [] if not at.dataframe else list(at.dataframe[0].value["Name"])
    assert "John Smith" not in names


def test_grid_saves_good_rows_and_keeps_bad_ones_as_typed(
    signed_in: Callable[[str], AppTest], john: int, app_db: Engine
) -> None:
    at = signed_in("manager")
    at.switch_page(LOOKUP).run()  # no term: newest first, so Mary Jones then John Smith
    grid = {"edited_rows": {0: {"City": "Hamburg", "Tags": "vip, berlin"},
                            1: {"City": "Leeds", "Preferred channel": "pigeon"}},
            "added_rows": [], "deleted_rows": []}
    # The editor is keyed by the customers it lists, so edits never move to other rows.
    grid_key = "lookup_grid:" + ",".join(str(i) for i in at.dataframe[0].value["Id"])
    at.session_state[grid_key] = grid
    at.run()
    next(b for b in at.button if b.label == "Save edited rows").click().run()
    assert not at.exception
    assert at.success[0].value == "Saved 1 customer."
    refused = at.dataframe[-1].value
    assert refused["Id"].tolist() == [john]
    assert refused["Reason"].iloc[0].startswith("preferred_channel: Choose one of")
    assert at.session_state[grid_key]["edited_rows"][1]["City"] == "Leeds"  # kept
    assert get_customer(MANAGER, john, engine=app_db).city == "London"
    mary = at.dataframe[0].value.iloc[0]["Id"]
    assert get_customer(MANAGER, int(mary), engine=app_db).city == "Hamburg"


def _grid_key(at: AppTest) -> str:
    """The key of the editor the page shows now (a save that refused nothing starts anew)."""
    seen = at.session_state["lookup_grid_seen"]
    return f"lookup_grid:{seen['listing']}" + (
        f"#{seen['generation']}" if seen["generation"] else "")


def _grid_save(at: AppTest, edited_rows: dict[int, dict[str, str]]) -> None:
    """Type ``edited_rows`` into the grid and save. Like the browser's editor, a grid keeps
    the edits typed into it before (until the page starts a new one)."""
    key = _grid_key(at)
    kept = at.session_state[key]["edited_rows"] if key in at.session_state else {}
    at.session_state[key] = {"edited_rows": {**kept, **edited_rows}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    next(b for b in at.button if b.label == "Save edited rows").click().run()
    assert not at.exception, at.exception


def test_a_grid_save_over_a_row_saved_in_another_tab_is_refused_and_kept(
        signed_in: Callable[[str], AppTest], john: int, app_db: Engine) -> None:
    """Two tabs list the same customers; both change John's city. The second save is
    refused with who saved and what, keeps its typed city, and goes through when saved
    again (before, each run re-read the versions, so it silently overwrote the first)."""
    first, second = signed_in("manager"), signed_in("admin")
    for tab in (first, second):
        tab.switch_page(LOOKUP).run()
        tab.text_input[0].input("smith").run()
    second.session_state[_grid_key(second)] = {"edited_rows": {0: {"City": "York"}},
                                               "added_rows": [], "deleted_rows": []}
    second.run()  # typed in the second tab, not yet saved
    _grid_save(first, {0: {"City": "Leeds"}})
    assert first.success[0].value == "Saved 1 customer."
    next(b for b in second.button if b.label == "Save edited rows").click().run()
    assert not second.success
    reason = second.dataframe[-1].value["Reason"].iloc[0]
    assert reason.startswith("manager saved this customer after the list was shown: "
                             "city is now Leeds.")
    assert get_customer(MANAGER, john, engine=app_db).city == "Leeds"
    assert second.session_state[_grid_key(second)]["edited_rows"][0]["City"] == "York"
    next(b for b in second.button if b.label == "Save edited rows").click().run()
    assert second.success[0].value == "Saved 1 customer."
    assert get_customer(MANAGER, john, engine=app_db).city == "York"


def test_a_saved_grid_edit_is_not_sent_again_with_a_later_save(
        signed_in: Callable[[str], AppTest], john: int, app_db: Engine) -> None:
    """After a save, a later save of another row must not send the first edit again over
    what someone saved in between (the editor kept its edits and re-sent them)."""
    at = signed_in("manager")
    at.switch_page(LOOKUP).run()  # Mary Jones, then John Smith
    _grid_save(at, {1: {"City": "Leeds"}})
    assert get_customer(MANAGER, john, engine=app_db).city == "Leeds"
    stored = get_customer(MANAGER, john, engine=app_db)
    update_customer(ADMIN, john, stored.version, {"city": "York"}, engine=app_db)
    _grid_save(at, {0: {"Status": "active"}})
    assert at.success[0].value == "Saved 1 customer."
    assert get_customer(MANAGER, john, engine=app_db).city == "York"


def test_reload_after_a_conflict_keeps_both_changes(signed_in: Callable[[str], AppTest],
                                                     john: int, app_db: Engine) -> None:
    """Two tabs on one record: A saves occupation, B's city save conflicts; after Reload,
    B sees A's occupation, keeps its own city, and saving stores both."""
    update_customer(MANAGER, john, 1, {"occupation": "Nurse"}, engine=app_db)
    tab_a = open_profile(signed_in, "manager", john)
    tab_b = open_profile(signed_in, "manager", john)
    _field(tab_a, john, "occupation").input("Pilot")
    _save(tab_a, john)
    assert not tab_a.error
    _field(tab_b, john, "city").input("Leeds")
    _save(tab_b, john)
    assert tab_b.error[0].value.startswith("Someone saved this customer after you opened it")
    next(b for b in tab_b.button if b.label == "Reload the latest version").click().run()
    assert not tab_b.exception
    assert _field(tab_b, john, "occupation").value == "Pilot"
    assert _field(tab_b, john, "city").value == "Leeds"  # the user's own edit, re-applied
    assert any("City" in i.value for i in tab_b.info)  # ... and said so
    _save(tab_b, john)
    assert not tab_b.error, [e.value for e in tab_b.error]
    assert not any("Loaded the latest version" in i.value for i in tab_b.info)  # saved now
    stored = get_customer(MANAGER, john, engine=app_db)
    assert (stored.occupation, stored.city) == ("Pilot", "Leeds")


def test_a_save_sent_from_the_form_before_reload_is_dropped(
        signed_in: Callable[[str], AppTest], john: int, app_db: Engine) -> None:
    """Two tabs: A saves occupation, B's postcode save conflicts, B clicks Reload and then
    Save on the form still on screen before the reloaded one arrives. In a browser that
    submit carries the pre-reload values (the old occupation), and checked against the
    reloaded version it put them back over A's save. It is dropped: B sees the reloaded
    form, and saves what it shows."""
    update_customer(MANAGER, john, 1, {"occupation": "Typist"}, engine=app_db)
    tab_a = open_profile(signed_in, "manager", john)
    tab_b = open_profile(signed_in, "manager", john)
    _field(tab_a, john, "occupation").input("Pilot")
    _save(tab_a, john)
    _field(tab_b, john, "postcode").input("99999")
    _save(tab_b, john)
    assert tab_b.error[0].value.startswith("Someone saved this customer after you opened it")
    # The form still on screen: the browser submits what it shows, whatever the server
    # has filled in since (AppTest would read untouched widgets from the server's state).
    stale_form = _form(tab_b, john)
    for widget in [*tab_b.text_input, *tab_b.selectbox, *tab_b.date_input]:
        if (widget.key or "").startswith(stale_form):
            widget.set_value(widget.value)
    stale_save = _submit(tab_b, john)
    next(b for b in tab_b.button if b.label == "Reload the latest version").click().run()
    version = get_customer(MANAGER, john, engine=app_db).version
    stale_save.click().run()
    assert not tab_b.exception
    assert get_customer(MANAGER, john, engine=app_db).version == version  # nothing written
    assert _field(tab_b, john, "occupation").value == "Pilot"
    assert _field(tab_b, john, "postcode").value == "99999"  # the user's edit, still there
    _save(tab_b, john)
    stored = get_customer(MANAGER, john, engine=app_db)
    assert (stored.occupation, stored.postcode) == ("Pilot", "99999")


def test_reload_keeps_a_colliding_edit_separate(signed_in: Callable[[str], AppTest],
                                                john: int, app_db: Engine) -> None:
    tab_b = open_profile(signed_in, "manager", john)
    update_customer(Actor("admin", "admin"), john, 1, {"city": "York"}, engine=app_db)
    _field(tab_b, john, "city").input("Leeds")
    _save(tab_b, john)
    next(b for b in tab_b.button if b.label == "Reload the latest version").click().run()
    assert _field(tab_b, john, "city").value == "York"  # the stored value in the field
    kept = " ".join(w.value for w in tab_b.warning)
    assert "City" in kept and "Leeds" in kept  # the user's own value, shown apart
    _save(tab_b, john)  # nothing typed since: nothing is written
    assert get_customer(MANAGER, john, engine=app_db).city == "York"
    assert any(i.value == "Nothing to save: no field differs from the stored record."
               for i in tab_b.info)


def test_a_save_writes_only_the_fields_the_user_changed(signed_in: Callable[[str], AppTest],
                                                        john: int, app_db: Engine) -> None:
    at = open_profile(signed_in, "manager", john)
    _field(at, john, "city").input("Leeds")
    _save(at, john)
    _field(at, john, "postcode").input("LS1 1AA")
    _save(at, john)
    history = at.tabs[6].dataframe[0].value
    assert sorted(history[history["Action"] == "customer.update"]["Field"]) == [
        "city", "postcode"]


def test_after_a_save_the_form_shows_the_stored_values(signed_in: Callable[[str], AppTest],
                                                       john: int, app_db: Engine) -> None:
    at = open_profile(signed_in, "manager", john)
    _field(at, john, "phone").input("020 7946 0959")
    _field(at, john, "country").input("gb")
    _save(at, john)
    assert not at.error
    assert _field(at, john, "phone").value == "+442079460959"
    assert _field(at, john, "country").value == "GB"
    # a second save right away is not a conflict: the form moved to the saved version
    _field(at, john, "city").input("Leeds")
    _save(at, john)
    assert not at.error
    assert get_customer(MANAGER, john, engine=app_db).city == "Leeds"


def test_a_save_sent_twice_says_saved_not_nothing_to_save(
        signed_in: Callable[[str], AppTest], john: int, app_db: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A double click: the second click's run replaces the first's rerun, and arrives with
    the values the first one stored. It confirms that save; it said "Nothing to save" (beside
    the first click's "Saved.", or alone when the second click cut that off)."""
    at = open_profile(signed_in, "manager", john)
    _field(at, john, "city").input("Leeds")
    with monkeypatch.context() as patched:  # the second click arrives before the rerun
        patched.setattr(st, "rerun", lambda *args, **kwargs: None)
        _save(at, john)
    _save(at, john)
    assert [t.value for t in at.toast] == ["Saved."]
    assert not [i.value for i in at.info if i.value.startswith("Nothing to save")]
    assert get_customer(MANAGER, john, engine=app_db).city == "Leeds"
    _save(at, john)  # a third click as fast: still that save
    assert not [i.value for i in at.info if i.value.startswith("Nothing to save")]
    later = utcnow() + timedelta(seconds=6)
    monkeypatch.setattr(types, "utcnow", lambda: later)
    _save(at, john)  # a click seconds later with nothing changed is told so
    assert any(i.value.startswith("Nothing to save") for i in at.info)


def test_consent_is_written_in_words(signed_in: Callable[[str], AppTest], john: int,
                                     app_db: Engine) -> None:
    """Emoji badges render as identical boxes where no emoji font exists."""
    for purpose, granted in (("email_marketing", True), ("sms", True), ("sms", False)):
        record_consent(MANAGER, john, purpose=purpose, granted=granted, source="phone",
                       notice_version="2026-02", engine=app_db)
    at = open_profile(signed_in, "manager", john)
    line = next(t.value for t in at.text if t.value.startswith("Tags:"))
    assert "email marketing: granted" in line
    assert "sms: withdrawn" in line
    assert "profiling: never asked" in line
    assert all(ord(char) < 0x2000 for char in line), line


def test_a_profile_opened_again_starts_from_the_stored_record(
    signed_in: Callable[[str], AppTest], john: int, app_db: Engine
) -> None:
    at = open_profile(signed_in, "manager", john)
    at.switch_page(LOOKUP).run()
    update_customer(Actor("admin", "admin"), john, 1, {"city": "York"}, engine=app_db)
    at.query_params["customer"] = str(john)
    at.switch_page(PROFILE).run()
    assert _field(at, john, "city").value == "York"
    _field(at, john, "postcode").input("YO1 7HH")
    _save(at, john)
    assert not at.error, [e.value for e in at.error]
    assert get_customer(MANAGER, john, engine=app_db).postcode == "YO1 7HH"


@pytest.mark.parametrize(("typed", "message"), [
    (date(2030, 1, 1), "The birth date is in the future."),
    (date(1890, 5, 17), "That makes the customer older than 120."),
])
def test_a_birth_date_out_of_range_is_refused_beside_the_field_and_kept(
        signed_in: Callable[[str], AppTest], john: int, app_db: Engine, typed: date,
        message: str) -> None:
    """The service's rule decides, not the picker's bounds, which used to turn the typed date
    back into the stored one and answer "Nothing to save"."""
    at = open_profile(signed_in, "manager", john)
    field = at.date_input(key=f"{_form(at, john)}_birth_date")
    field.set_value(typed)
    _save(at, john)
    assert message in [e.value.replace("\\", "") for e in at.error]
    assert at.date_input(key=f"{_form(at, john)}_birth_date").value == typed
    assert get_customer(MANAGER, john, engine=app_db).birth_date is None
