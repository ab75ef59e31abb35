"""The customer profile's interactions and deletion through the real app: logging without
duplicates, correcting and deleting a contact, deleting and restoring the customer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update
from streamlit.testing.v1 import AppTest

from db.core.access import Actor
from db.core.engine import write_session
from db.core.types import utcnow
from db.customers import profile
from db.customers.service import (
    CustomerDeleted,
    create_customer,
    get_customer,
    soft_delete_customer,
)
from db.imports import engine as imports
from db.imports.mapping import suggest
from db.imports.reading import open_table
from db.models import Interaction
from db.search.ranking import search_customers
from tests.pages.conftest import ROOT, open_profile

DELETED = str(ROOT / "pages" / "deleted_customers.py")
ADMIN, MANAGER = Actor("admin", "admin"), Actor("manager", "manager")


@pytest.fixture
def ada(app_db: Engine) -> int:
    customer = create_customer(MANAGER, {"first_name": "Ada", "last_name": "Byron",
                                         "country": "GB", "city": "London"}, engine=app_db)
    assert customer.id is not None
    return customer.id


def _type_contact(at: AppTest, customer_id: int, subject: str, summary: str) -> None:
    at.text_input(key=f"log_{customer_id}_subject").input(subject)
    at.text_area(key=f"log_{customer_id}_summary").input(summary)
    at.button(key=f"FormSubmitter:log_{customer_id}-Log interaction").click().run()
    assert not at.exception, at.exception


def _logged(engine: Engine, customer_id: int) -> list[Interaction]:
    return profile.interactions(MANAGER, customer_id, engine=engine)


def test_logging_empties_the_form_and_a_second_submit_logs_nothing(
    signed_in: Callable[[str], AppTest], ada: int, app_db: Engine
) -> None:
    at = open_profile(signed_in, "manager", ada)
    at.selectbox(key=f"log_{ada}_kind").select("meeting")
    _type_contact(at, ada, "Delivery", "Parcel late")
    assert [(i.kind, i.subject, i.summary) for i in _logged(app_db, ada)] == [
        ("meeting", "Delivery", "Parcel late")]
    assert at.text_input(key=f"log_{ada}_subject").value == ""
    assert at.text_area(key=f"log_{ada}_summary").value == ""
    assert at.selectbox(key=f"log_{ada}_kind").value == "email"  # back to the first kind
    # A fast second click reaches the server with the form as it was before it emptied.
    at.selectbox(key=f"log_{ada}_kind").select("meeting")
    _type_contact(at, ada, "Delivery", "Parcel late")
    assert len(_logged(app_db, ada)) == 1
    assert "already logged" in at.tabs[2].info[0].value
    assert at.text_input(key=f"log_{ada}_subject").value == ""


def test_a_refused_contact_keeps_what_was_typed(signed_in: Callable[[str], AppTest], ada: int,
                                                app_db: Engine) -> None:
    at = open_profile(signed_in, "manager", ada)
    _type_contact(at, ada, "   ", "Parcel late")
    assert [e.value.replace("\\", "") for e in at.error] == [
        "A subject is required (at most 200 characters)."]
    assert at.text_area(key=f"log_{ada}_summary").value == "Parcel late"
    assert _logged(app_db, ada) == []
    _type_contact(at, ada, "Delivery", "Parcel late")
    assert not at.error and len(_logged(app_db, ada)) == 1


def test_the_author_corrects_then_deletes_after_confirming(
    signed_in: Callable[[str], AppTest], ada: int, app_db: Engine
) -> None:
    at = open_profile(signed_in, "manager", ada)
    _type_contact(at, ada, "Delivery", "Parcel late")
    (logged,) = _logged(app_db, ada)
    at.selectbox(key=f"change_interaction_{ada}").select(logged.id).run()
    at.text_input(key=f"interaction_{logged.id}_subject").input("Delivery delayed")
    at.selectbox(key=f"interaction_{logged.id}_kind").select("email")
    at.button(key=f"FormSubmitter:interaction_{logged.id}-Save correction").click().run()
    assert not at.exception and not at.error
    (corrected,) = _logged(app_db, ada)
    assert (corrected.id, corrected.kind, corrected.subject) == (logged.id, "email",
                                                                 "Delivery delayed")
    assert at.tabs[2].dataframe[0].value.iloc[0]["Subject"] == "Delivery delayed"

    at.button(key=f"interaction_delete_ask_{logged.id}").click().run()
    assert "Delivery delayed" in at.warning[0].value and len(_logged(app_db, ada)) == 1
    at.button(key=f"interaction_delete_no_{logged.id}").click().run()
    assert not at.warning and len(_logged(app_db, ada)) == 1
    at.button(key=f"interaction_delete_ask_{logged.id}").click().run()
    at.button(key=f"interaction_delete_yes_{logged.id}").click().run()
    assert not at.exception and not at.error
    assert _logged(app_db, ada) == []
    assert at.tabs[2].info[0].value == "No interactions yet."
    history = at.tabs[6].dataframe[0].value
    assert set(history["Action"]) >= {"interaction.update", "interaction.delete"}


def test_only_the_author_or_an_admin_may_change_it_for_a_day(
    signed_in: Callable[[str], AppTest], ada: int, app_db: Engine
) -> None:
    by_admin = profile.log_interaction(ADMIN, ada, kind="note", subject="VIP",
                                       engine=app_db)
    manager = open_profile(signed_in, "manager", ada)
    assert not [s for s in manager.selectbox if s.key == f"change_interaction_{ada}"]
    by_manager = profile.log_interaction(MANAGER, ada, kind="call", subject="Callback",
                                         engine=app_db)
    admin = open_profile(signed_in, "admin", ada)
    assert set(admin.selectbox(key=f"change_interaction_{ada}").options) == {
        f"{i.at:%Y-%m-%d %H:%M} UTC · {i.kind} · {i.subject}" for i in (by_admin, by_manager)}
    with write_session(app_db) as session:
        session.execute(update(Interaction).values(logged_at=utcnow() - timedelta(hours=25)))
    admin = open_profile(signed_in, "admin", ada)
    assert not [s for s in admin.selectbox if s.key == f"change_interaction_{ada}"]


def test_deleting_asks_first_and_names_the_customer(signed_in: Callable[[str], AppTest],
                                                   ada: int, app_db: Engine) -> None:
    at = open_profile(signed_in, "admin", ada)
    at.button(key=f"delete_{ada}").click().run()
    assert at.warning[0].value.replace("\\", "").startswith(f"Delete Ada Byron (#{ada})?")
    assert get_customer(MANAGER, ada, engine=app_db).deleted_at is None  # not yet
    at.button(key=f"delete_no_{ada}").click().run()
    assert not at.warning and get_customer(MANAGER, ada, engine=app_db)
    at.button(key=f"delete_{ada}").click().run()
    at.button(key=f"delete_yes_{ada}").click().run()
    assert not at.exception
    with pytest.raises(CustomerDeleted):
        get_customer(MANAGER, ada, engine=app_db)
    # The profile stays, saying what happened, with Restore as the way back.
    assert at.title[0].value == "Ada Byron \\(deleted\\)"
    assert at.warning[0].value.replace("\\", "").endswith("UTC by admin.")
    at.button(key=f"restore_{ada}").click().run()
    assert at.title[0].value == "Ada Byron"
    assert get_customer(MANAGER, ada, engine=app_db).deleted_at is None


def test_a_deleted_customer_by_link_says_when_and_by_whom(signed_in: Callable[[str], AppTest],
                                                          ada: int, app_db: Engine) -> None:
    soft_delete_customer(ADMIN, ada, engine=app_db)
    at = open_profile(signed_in, "manager", ada)
    assert at.title[0].value == "Deleted customer"
    message = at.warning[0].value.replace("\\", "")
    assert message.startswith(f"Customer {ada} was deleted on ") and message.endswith(
        " UTC by admin.")
    assert "Ada" not in message
    assert not at.text_input and not at.tabs  # no profile, no edit form
    assert not [b for b in at.button if b.label.startswith("Restore")]


def test_admins_restore_from_the_deleted_customers_page(signed_in: Callable[[str], AppTest],
                                                        ada: int, app_db: Engine) -> None:
    soft_delete_customer(ADMIN, ada, engine=app_db)
    manager = signed_in("manager")
    manager.switch_page(DELETED).run()
    assert manager.error[0].value.startswith("Your role (manager) does not give access")
    assert not manager.dataframe
    at = signed_in("admin")
    at.switch_page(DELETED).run()
    listed = at.dataframe[0].value
    assert listed[["Id", "Name", "By"]].values.tolist() == [[ada, "Ada Byron", "admin"]]
    assert at.button[0].disabled
    at.selectbox(key="restore_choice").select(ada).run()
    at.button[0].click().run()
    assert not at.exception
    assert at.success[0].value.replace("\\", "").startswith(f"Restored Ada Byron (#{ada})")
    assert at.info[0].value == "No deleted customers."
    assert [hit.customer.id for hit in search_customers(MANAGER, "ada byron",
                                                        engine=app_db).hits] == [ada]


def test_history_says_which_import_changed_the_customer(
    signed_in: Callable[[str], AppTest], app_db: Engine
) -> None:
    data = b"customer number,first name,last name,country\nK-9,Ida,Import,DE\n"
    table = open_table(data, name="list.csv")
    done = imports.commit(ADMIN, imports.Request("customers", data, table,
                                                 suggest("customers", table.columns)),
                          engine=app_db)
    customer_id = search_customers(ADMIN, "K-9", engine=app_db).hits[0].customer.id or 0
    at = open_profile(signed_in, "admin", customer_id)
    history = at.tabs[6].dataframe[0].value
    assert set(history["Action"]) == {f"changed by import {done.import_id}"}
    assert set(history["Field"]) == {"external_ref", "first_name", "last_name", "country"}
