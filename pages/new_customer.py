"""New customer (admin, manager): the same validation as every edit, and no duplicates.

An e-mail that another customer has is refused with a link to them; a record that looks
like an existing person (same phone, or same name with the same postcode or birth date)
asks for confirmation first. A second click that sends the record just created again opens
that customer (:class:`db.customers.twins.AlreadyCreated`).
"""

from __future__ import annotations

import streamlit as st

from dashboard.access import require_page
from dashboard.date_bounds import EARLIEST, LATEST
from dashboard.navigation import PAGES_DIR
from dashboard.text import plain
from db.core.access import Capability
from db.customers.service import DuplicateEmail, PossibleDuplicate, create_customer
from db.customers.twins import AlreadyCreated
from db.customers.validation import InvalidFields
from db.models import CONTACT_CHANNELS, CUSTOMER_STATUSES, GENDERS, INCOME_BANDS, SOURCE_CHANNELS
from db.users.service import UserView

PROFILE = PAGES_DIR / "customer.py"
TEXT_FIELDS = (("first_name", "First name *"), ("last_name", "Last name *"),
               ("email", "E-mail"), ("phone", "Phone"), ("street", "Street"),
               ("postcode", "Postcode"), ("city", "City"), ("country", "Country (ISO code) *"),
               ("occupation", "Occupation"), ("external_ref", "External reference"))
CHOICE_FIELDS = (("gender", "Gender", GENDERS), ("income_band", "Income band", INCOME_BANDS),
                 ("preferred_channel", "Preferred channel", CONTACT_CHANNELS),
                 ("status", "Status", CUSTOMER_STATUSES), ("source", "Source", SOURCE_CHANNELS))
KEYS = [f"new_{name}" for name, _ in TEXT_FIELDS] + [f"new_{n}" for n, _, _ in CHOICE_FIELDS] \
    + ["new_birth_date"]


def _form(errors: dict[str, str]) -> dict | None:
    with st.form("new_customer"):
        columns = st.columns(2)
        values: dict[str, object] = {}
        for index, (name, label) in enumerate(TEXT_FIELDS):
            column = columns[index % 2]
            values[name] = column.text_input(label, key=f"new_{name}")
            if name in errors:
                column.error(plain(errors[name]))
        for index, (name, label, options) in enumerate(CHOICE_FIELDS):
            column = columns[index % 2]
            default = "lead" if name == "status" else ""
            choices = list(options) if name == "status" else ["", *options]
            values[name] = column.selectbox(label, choices, index=choices.index(default),
                                            key=f"new_{name}")
            if name in errors:
                column.error(plain(errors[name]))
        values["birth_date"] = columns[1].date_input(
            "Birth date", value=None, format="YYYY-MM-DD", key="new_birth_date",
            min_value=EARLIEST, max_value=LATEST)
        if "birth_date" in errors:
            columns[1].error(plain(errors["birth_date"]))
        if not st.form_submit_button("Create customer"):
            return None
    return values


def _create(user: UserView, values: dict, *, confirm: bool) -> None:
    """Ask the service; each attempt starts without the previous attempt's messages, so a
    problem the user has since fixed no longer shows under its field."""
    for key in ("new_errors", "new_existing", "new_candidates", "new_pending"):
        st.session_state.pop(key, None)
    try:
        customer_id = create_customer(user.actor, values, confirm=confirm).id
    except AlreadyCreated as already:  # a second click: the first one created it
        customer_id = already.existing_id
        st.toast(f"Customer {customer_id} was already created by your first click; "
                 "here it is.")
    except InvalidFields as error:
        st.session_state["new_errors"] = error.errors
        st.rerun()
    except DuplicateEmail as error:
        st.session_state["new_errors"] = {"email": str(error)}
        st.session_state["new_existing"] = error.existing_id
        st.rerun()
    except PossibleDuplicate as error:
        st.session_state["new_candidates"] = [
            (c.id, f"{c.first_name} {c.last_name}", c.city or "", c.phone or "")
            for c in error.candidates]
        st.session_state["new_pending"] = values
        st.rerun()
    for key in [*KEYS, "new_errors", "new_existing", "new_candidates", "new_pending"]:
        st.session_state.pop(key, None)
    st.switch_page(str(PROFILE), query_params={"customer": str(customer_id)})


def main() -> None:
    user = require_page(Capability.EDIT_CUSTOMER, "New customer")
    st.title("New customer")
    if existing := st.session_state.get("new_existing"):
        st.page_link(str(PROFILE), label=f"Open customer {existing}, who has this e-mail",
                     query_params={"customer": existing}, icon=":material/person:")
    if candidates := st.session_state.get("new_candidates"):
        st.warning("This looks like an existing customer. Check them before creating another:")
        for customer_id, name, city, phone in candidates:
            # A link label renders Markdown, and the name and city are stored text.
            st.page_link(str(PROFILE), label=plain(f"#{customer_id} {name} {city} {phone}"
                                                   .strip()),
                         query_params={"customer": customer_id})
        left, right = st.columns(2)
        if left.button("Create anyway"):
            _create(user, st.session_state["new_pending"], confirm=True)
        if right.button("Cancel"):
            for key in ("new_candidates", "new_pending"):
                st.session_state.pop(key)
            st.rerun()
    values = _form(st.session_state.get("new_errors", {}))
    if values is not None:
        _create(user, values, confirm=False)


main()
