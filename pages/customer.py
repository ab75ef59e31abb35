"""Customer profile (everyone; some tabs by role): everything about one customer, and safe
edits. Opened from Lookup as ``?customer=ID``, so a profile link can be shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import streamlit as st

from dashboard.access import require_page
from dashboard.charts import build_spend_chart
from dashboard.consent_panel import consent_tab
from dashboard.date_bounds import EARLIEST, LATEST
from dashboard.erasure_panel import erased_notice, erasure_section
from dashboard.export_panel import export_panel
from dashboard.navigation import PAGES_DIR
from dashboard.order_entry import order_form
from dashboard.predictions_panel import predictions_panel
from dashboard.privacy_tab import privacy_tab
from dashboard.restriction_panel import restriction_panel
from dashboard.text import counted, format_when, plain
from db.audit.search import AuditFilter, FieldChange, field_changes, search_events
from db.core.access import Capability, PermissionDenied
from db.core.types import utcnow
from db.customers import orders, profile
from db.customers import service as customers
from db.customers.export import export_record
from db.customers.service import (
    CustomerNotFound,
    DuplicateEmail,
    Rebased,
    StaleRecord,
    editable_fields,
    get_customer,
    rebase_edit,
    soft_delete_customer,
    stored_id,
    update_customer,
)
from db.customers.validation import InvalidFields
from db.exports import ExportError, ExportFile
from db.models import (
    CONTACT_CHANNELS,
    CUSTOMER_STATUSES,
    DIRECTIONS,
    GENDERS,
    INCOME_BANDS,
    INTERACTION_KINDS,
    AuditEvent,
    Customer,
    Interaction,
)
from db.users.service import UserView

LOOKUP_PAGE = PAGES_DIR / "lookup.py"
DELETED_PAGE = PAGES_DIR / "deleted_customers.py"
MERGED_FROM = "profile_merged_from"  # the merged id an old link named, shown once
MERGED_UNSAVED = "profile_merged_unsaved"  # what a save to the merged record sent, shown once
# Customer id → the edit form's :class:`EditBase`. A plain dict inside Session State, changed
# by plain assignment: every Session State read or write is a point where a click that
# arrived meanwhile stops the run, so bookkeeping spread over several keys could be cut off
# right after a commit, and the next save was checked against the version before it.
EDIT_BASES = "profile_edit_bases"
EDITABLE = ("first_name", "last_name", "email", "phone", "street", "postcode", "city",
            "country", "birth_date", "gender", "occupation", "income_band",
            "preferred_channel", "status")
LABELS = {"first_name": "First name", "last_name": "Last name", "email": "E-mail",
          "phone": "Phone", "street": "Street", "postcode": "Postcode", "city": "City",
          "country": "Country (ISO code)", "birth_date": "Birth date", "gender": "Gender",
          "occupation": "Occupation", "income_band": "Income band",
          "preferred_channel": "Preferred channel", "status": "Status"}
# An empty log form submitted this soon after a contact was logged is a double click's
# second click, which reached the browser's form after it emptied.
DOUBLE_CLICK_SECONDS = 5
# Most contacts are staff reaching out, so the log form offers that first.
LOG_DIRECTIONS = ("outbound", *(d for d in DIRECTIONS if d != "outbound"))
CHOICES = {"gender": GENDERS, "income_band": INCOME_BANDS,
           "preferred_channel": CONTACT_CHANNELS, "status": CUSTOMER_STATUSES}


def _customer_id() -> int | None:
    raw = st.query_params.get("customer", "")
    return int(raw) if raw.isdigit() else None


def _header(user: UserView, customer: Customer, numbers: profile.Figures) -> None:
    st.title(plain(f"{customer.first_name} {customer.last_name}"))
    address = ", ".join(filter(None, [customer.street, customer.postcode])) or "—"
    # Since they were put on file, or since their first order when that is earlier: an
    # order log loaded today makes customers whose history starts years back.
    since = min(filter(None, (customer.created_at, numbers.first_order_at)))
    lines = [f"#{customer.id} · {customer.status} · {customer.city or '—'}, {customer.country}"
             f" · customer since {since:%Y-%m-%d}",
             f"E-mail: {customer.email or '—'}    Phone: {customer.phone or '—'}    "
             f"Address: {address}"]
    for line in lines:
        st.text(line)
    tags = profile.tags(user.actor, stored_id(customer))
    consent = profile.current_consent(profile.consent_history(user.actor, stored_id(customer)))
    # Words, not emoji: without an emoji font every badge is the same empty box.
    badges = [f"{purpose.replace('_', ' ')}: "
              f"{'never asked' if event is None else 'granted' if event.granted else 'withdrawn'}"
              for purpose, event in consent.items()]
    st.text("Tags: " + (", ".join(tags) or "none") + "    Consent: " + " · ".join(badges))


def _figures(numbers: profile.Figures) -> None:
    # Two rows of three: in six columns a date or a large sum was cut off at 1,400 px.
    columns = [*st.columns(3), *st.columns(3)]
    columns[0].metric("Lifetime value", f"€{numbers.lifetime_value:,.2f}")
    columns[1].metric("Orders", f"{numbers.orders:,}",
                      help=f"Refunds, counted apart: {numbers.refunds:,}.")
    columns[2].metric("Average order", "—" if numbers.average_order is None
                      else f"€{numbers.average_order:,.2f}")
    columns[3].metric("Last order", "—" if numbers.last_order_at is None
                      else f"{numbers.last_order_at:%Y-%m-%d}",
                      help=None if numbers.days_since_last_order is None
                      else f"{counted(numbers.days_since_last_order, 'day')} ago; first order "
                           f"{numbers.first_order_at:%Y-%m-%d}")
    columns[4].metric("Days since last order", "—" if numbers.days_since_last_order is None
                      else str(numbers.days_since_last_order))
    columns[5].metric("Latest NPS", "—" if numbers.latest_nps is None
                      else str(numbers.latest_nps))


def _form_values(customer: Customer) -> dict[str, object]:
    """The record as the edit form's widgets hold it: an empty text or choice is ``""``."""
    return {name: getattr(customer, name) if name == "birth_date"
            else getattr(customer, name) or "" for name in EDITABLE}


def _form_key(customer: Customer) -> str:
    """The edit form's key, and the prefix of its widgets' keys: it changes each time the
    form is filled from another version than the user's own last save."""
    return _form_key_of(stored_id(customer))


def _form_key_of(customer_id: int) -> str:
    """:func:`_form_key` of a customer known by id only (merged or deleted meanwhile)."""
    return f"edit_{customer_id}_{st.session_state.get(f'edit_generation_{customer_id}', 0)}"


@dataclass(frozen=True)
class EditBase:
    """What the edit form started from: the stored version and values a save is checked
    against, and — from the user's own save until the next run refills the form — the
    values that save sent."""

    version: int
    seen: dict[str, object]
    just_saved: dict[str, object] | None = None
    # When the user's own save stored what the form now holds: the same values sent again
    # within DOUBLE_CLICK_SECONDS are that save's second click, not a save of nothing.
    saved_at: datetime | None = None


def _fill_form(customer: Customer, values: dict[str, object] | None = None, *,
               fresh: bool = True, saved_at: datetime | None = None) -> None:
    """Put ``values`` (default: the stored record) into the form and remember the stored
    version and values the form now starts from, so a save sends only what the user changed.

    The widgets are set through Session State, before they are drawn in this run: a value
    passed to the widget itself would lose to what the browser still holds. A ``fresh`` fill
    (first drawn, or reloaded after someone else's save) gives the form and its widgets new
    keys, so a submit from the form the browser still shows — sent before the new one
    arrived — names widgets this run does not draw and is dropped, instead of being checked
    against the version it never showed. After the user's own save the keys stay, so a
    second save typed meanwhile still counts.
    """
    if fresh:
        generation = f"edit_generation_{customer.id}"
        st.session_state[generation] = st.session_state.get(generation, 0) + 1
    stored = _form_values(customer)
    bases: dict[int, EditBase] = st.session_state.setdefault(EDIT_BASES, {})
    bases[stored_id(customer)] = EditBase(customer.version, stored,  # one step, not cut off
                                          saved_at=saved_at)
    for name, value in (values or stored).items():
        st.session_state[f"{_form_key(customer)}_{name}"] = value
    for key in (f"edit_errors_{customer.id}", f"conflict_{customer.id}",
                f"edit_rebased_{customer.id}"):
        st.session_state.pop(key, None)


def _edit_form(user: UserView, customer: Customer) -> None:
    """Edit the record; the version seen when the form opened guards against overwriting."""
    state = st.session_state
    bases: dict[int, EditBase] = state.setdefault(EDIT_BASES, {})
    base = bases.get(stored_id(customer))
    # This run follows the user's own save, whichever click started it: it says "Saved.",
    # where the saving run's own notice could be cut off by a second click.
    confirm = base is not None and base.just_saved is not None
    if base is None or f"{_form_key(customer)}_{EDITABLE[0]}" not in state:
        _fill_form(customer)  # first drawn, or left and come back to
    elif base.just_saved is not None:
        # Just saved: show the stored, normalised values — except where the user typed
        # again before this run (a fast second save arrives with this very run).
        saved = base.just_saved
        typed = {name: state[f"{_form_key(customer)}_{name}"] for name in EDITABLE
                 if state[f"{_form_key(customer)}_{name}"] != saved[name]}
        _fill_form(customer, _form_values(customer) | typed, fresh=False,
                   saved_at=base.saved_at)
    version, seen = bases[stored_id(customer)].version, bases[stored_id(customer)].seen
    errors: dict[str, str] = state.get(f"edit_errors_{customer.id}", {})
    editable = editable_fields(user.actor, EDITABLE)
    with st.form(_form_key(customer)):
        values: dict[str, object] = {}
        columns = st.columns(2)
        for index, name in enumerate(EDITABLE):
            column = columns[index % 2]
            key, disabled = f"{_form_key(customer)}_{name}", name not in editable
            if name in CHOICES:
                values[name] = column.selectbox(LABELS[name], ["", *CHOICES[name]], key=key,
                                                disabled=disabled)
            elif name == "birth_date":
                values[name] = column.date_input(LABELS[name], key=key, disabled=disabled,
                                                 format="YYYY-MM-DD", min_value=EARLIEST,
                                                 max_value=LATEST)
            else:
                values[name] = column.text_input(LABELS[name], key=key, disabled=disabled)
            if name in errors:
                column.error(plain(errors[name]))
        submitted = st.form_submit_button("Save changes", key=f"{_form_key(customer)}_save")
    if confirm:
        st.toast("Saved.")
    if not submitted:
        return
    changes = {name: value for name, value in values.items()
               if name in editable and value != seen[name]}
    if not changes:
        state.pop(f"edit_errors_{customer.id}", None)
        saved_at = bases[stored_id(customer)].saved_at
        again = confirm or (saved_at is not None and (utcnow() - saved_at).total_seconds()
                            < DOUBLE_CLICK_SECONDS)
        if not again:  # else the same save sent twice (a double click): the first stored it
            st.info("Nothing to save: no field differs from the stored record.")
        return
    try:
        update_customer(user.actor, stored_id(customer), version, changes)
        # No Streamlit call between the commit and this: a click arriving now cannot cut it.
        bases[stored_id(customer)] = EditBase(version, seen, just_saved=values,
                                              saved_at=utcnow())
    except InvalidFields as error:
        state[f"edit_errors_{customer.id}"] = error.errors
        st.rerun()
    except DuplicateEmail as error:
        state[f"edit_errors_{customer.id}"] = {"email": str(error)}
        st.rerun()
    except StaleRecord as conflict:
        state[f"conflict_{customer.id}"] = Conflict(
            [(event.actor, format_when(event.at), change.field, change.old, change.new)
             for event in conflict.changes for change in field_changes(event)],
            seen, changes)
        st.rerun()
    st.rerun()  # the next run, whichever click starts it, says "Saved."


@dataclass(frozen=True)
class Conflict:
    """A save refused because someone saved first: their changes, and the user's edit."""

    theirs: list[tuple[str, str, str, object, object]]
    seen: dict[str, object]
    mine: dict[str, object]


def _conflict(customer: Customer) -> None:
    """Say who saved first; on Reload, show the stored record with the user's own changes
    re-applied where nobody else changed the field, and colliding ones beside it."""
    conflict: Conflict | None = st.session_state.get(f"conflict_{customer.id}")
    if conflict is not None:
        st.error("Someone saved this customer after you opened it; your changes were not "
                 "saved. Their changes:")
        st.dataframe(pd.DataFrame(conflict.theirs, columns=["By", "When", "Field", "Old", "New"]),
                     hide_index=True)
        if st.button("Reload the latest version"):
            reloaded = rebase_edit(conflict.seen, conflict.mine, _form_values(customer))
            _fill_form(customer, reloaded.values)
            st.session_state[f"edit_rebased_{customer.id}"] = reloaded
            st.rerun()
        return
    rebased: Rebased | None = st.session_state.get(f"edit_rebased_{customer.id}")
    base = st.session_state.get(EDIT_BASES, {}).get(stored_id(customer))
    if rebased is None or (base is not None and base.just_saved is not None):
        return  # nothing re-applied, or just saved (the form is about to be refilled)
    if rebased.reapplied:
        st.info("Loaded the latest version. Your unsaved changes to "
                + ", ".join(LABELS[name] for name in rebased.reapplied)
                + " are filled in again: check them and save.")
    for name, mine in rebased.colliding.items():
        st.warning(plain(f"{LABELS[name]}: someone else changed it too; the field shows the "
                         f"stored value. Your unsaved value was “{mine or '(empty)'}” — type "
                         f"it again to keep it."))


def _delete(user: UserView, customer: Customer) -> None:
    """Soft delete (admins), after a question that names the customer: the record stays
    for the audit trail and an admin can restore it."""
    if not user.actor.can(Capability.ADMINISTER):
        return
    asked = f"delete_ask_{customer.id}"
    with st.expander("Delete this customer"):
        if not st.session_state.get(asked):
            st.caption("They leave lookup, segments and the KPIs; an admin can restore them "
                       "under Deleted customers.")
            if st.button("Delete customer…", key=f"delete_{customer.id}"):
                st.session_state[asked] = True
                st.rerun()
            return
        st.warning(plain(f"Delete {customer.first_name} {customer.last_name} "
                         f"(#{customer.id})? They leave lookup, segments and the KPIs until "
                         "an admin restores them."))
        yes, no = st.columns(2)
        if yes.button("Yes, delete this customer", type="primary",
                      key=f"delete_yes_{customer.id}"):
            del st.session_state[asked]
            try:
                soft_delete_customer(user.actor, stored_id(customer))
            except CustomerNotFound as gone:  # another admin deleted them meanwhile
                st.error(str(gone))
                return
            st.rerun()  # the profile now says who deleted them, and offers Restore
        if no.button("Cancel", key=f"delete_no_{customer.id}"):
            del st.session_state[asked]
            st.rerun()


def _deleted_profile(user: UserView, deleted: customers.CustomerDeleted, unsaved: str) -> None:
    """A deleted customer opened by link: when and by whom, no edit form; admins restore.
    ``unsaved``: what a save sent from a page opened before the deletion held."""
    gone = deleted.gone
    st.title(plain(f"{gone.name} (deleted)") if gone.name else "Deleted customer")
    st.warning(plain(str(deleted)))
    if unsaved:
        st.warning(plain(f"Your changes were not saved: {unsaved}."))
    if not user.actor.can(Capability.ADMINISTER):
        st.caption("Ask an admin if this customer should be restored.")
        st.page_link(str(LOOKUP_PAGE), label="Go to Lookup", icon=":material/search:")
        return
    if st.button("Restore this customer", type="primary", key=f"restore_{gone.id}"):
        try:
            customers.restore_customer(user.actor, gone.id)
        except CustomerNotFound as error:  # another admin restored them meanwhile
            st.error(str(error))
            return
        st.rerun()
    st.page_link(str(DELETED_PAGE), label="All deleted customers",
                 icon=":material/restore_from_trash:")
    erasure_section(user, gone.id)


def _unsaved(customer_id: int) -> str:
    """The changes the edit form of ``customer_id`` sent that no save stored, as the user
    typed them ("City: “Leeds”"); empty if none.

    A save sent after the customer was merged or deleted elsewhere reaches a run that no
    longer draws the form, so nothing saves it: it must at least be named, not dropped."""
    state = st.session_state
    base: EditBase | None = state.get(EDIT_BASES, {}).get(customer_id)
    prefix = _form_key_of(customer_id)
    # Only a run the Save button started carries what the form holds: in any other, the
    # browser may not have sent the form's fields (they read as empty).
    if base is None or not state.get(f"{prefix}_save"):
        return ""
    stored = base.just_saved or base.seen  # after the user's own save: what it stored
    sent = {name: state[f"{prefix}_{name}"] for name in EDITABLE if f"{prefix}_{name}" in state}
    return "; ".join(f"{LABELS[name]}: “{value or '(empty)'}”" for name, value in sent.items()
                     if value != stored[name])


def _follow_merge(merged: customers.CustomerMerged) -> None:
    """An old link to a merged record opens its survivor (the address bar too), which then
    says once where the visitor came from, and what of theirs was not saved."""
    st.session_state[MERGED_FROM] = merged.customer_id
    st.session_state[MERGED_UNSAVED] = _unsaved(merged.customer_id)
    st.query_params["customer"] = str(merged.survivor_id)
    st.rerun()


def _erased_profile(erased: customers.CustomerErased) -> None:
    """An erased customer opened by link: only the pseudonym is left to show."""
    st.title(plain(f"Erased customer {erased.pseudonym}"))
    erased_notice()
    st.info(plain(str(erased)))
    # A colleague's tab opened before the erasure lands here from any form it sends.
    st.caption("Nothing more is recorded for an erased customer: a change sent from a page "
               "opened before the erasure was not saved.")
    st.page_link(str(LOOKUP_PAGE), label="Go to Lookup", icon=":material/search:")


def _orders_tab(user: UserView, customer_id: int) -> None:
    if orders.may_record(user.actor):
        order_form(user, customer_id)
    rows = profile.orders(user.actor, customer_id)
    if not rows:
        st.info("No orders yet.")
        return
    frame = pd.DataFrame([{"Date (UTC)": o.ordered_at, "Amount": float(o.amount),
                           "Currency": o.currency, "Category": o.category,
                           "Product": o.product, "Qty": o.quantity, "Channel": o.channel}
                          for o in rows])
    st.altair_chart(build_spend_chart(frame.rename(columns={"Date (UTC)": "ordered_at",
                                                            "Amount": "amount"})),
                    width="stretch")
    st.dataframe(frame, hide_index=True, column_config={
        "Date (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "Amount": st.column_config.NumberColumn(format="%.2f")})


def _log_key(customer_id: int, name: str) -> str:
    return f"log_{customer_id}_{name}"


def _log_submitted(user: UserView, customer_id: int) -> None:
    """The log form's submit callback. It runs before the script, while the form's widgets
    can still be given values: a logged (or already logged) contact empties the form, which
    Streamlit sends to the browser; a refused one leaves everything as typed."""
    state = st.session_state
    values = {name: state[_log_key(customer_id, name)] for name in profile.INTERACTION_FIELDS}
    typed = any(values[name].strip() for name in ("subject", "summary", "outcome"))
    last_logged = state.get(_log_key(customer_id, "logged"))
    if not typed and last_logged and (
            (utcnow() - last_logged).total_seconds() < DOUBLE_CLICK_SECONDS):
        return  # the second click of a double click landed on the emptied form
    try:
        profile.log_interaction(user.actor, customer_id, staff_user_id=user.id, **values)
    except InvalidFields as error:
        state[_log_key(customer_id, "errors")] = list(error.errors.values())
        return
    except CustomerNotFound as gone:  # deleted since the page was drawn
        state[_log_key(customer_id, "errors")] = [str(gone)]
        return
    except profile.AlreadyLogged as already:
        state[_log_key(customer_id, "notice")] = str(already)
    else:
        state[_log_key(customer_id, "toast")] = "Interaction logged."
    state[_log_key(customer_id, "logged")] = utcnow()
    state.pop(_log_key(customer_id, "errors"), None)
    state[_log_key(customer_id, "kind")] = INTERACTION_KINDS[0]
    state[_log_key(customer_id, "direction")] = LOG_DIRECTIONS[0]
    for name in ("subject", "summary", "outcome"):
        state[_log_key(customer_id, name)] = ""


def _log_form(user: UserView, customer_id: int) -> None:
    if message := st.session_state.pop(_log_key(customer_id, "toast"), None):
        st.toast(message)
    if message := st.session_state.pop(_log_key(customer_id, "notice"), None):
        st.info(plain(message))
    with st.form(f"log_{customer_id}"):
        left, right = st.columns(2)
        left.selectbox("Kind", INTERACTION_KINDS, key=_log_key(customer_id, "kind"))
        right.selectbox("Direction", LOG_DIRECTIONS, key=_log_key(customer_id, "direction"))
        st.text_input("Subject", max_chars=200, key=_log_key(customer_id, "subject"))
        st.text_area("Summary", max_chars=4000, key=_log_key(customer_id, "summary"))
        st.text_input("Outcome", max_chars=100, key=_log_key(customer_id, "outcome"))
        for message in st.session_state.get(_log_key(customer_id, "errors"), []):
            st.error(plain(message))
        st.form_submit_button("Log interaction", on_click=_log_submitted,
                              args=(user, customer_id))


def _interaction_label(interaction: Interaction) -> str:
    """How an interaction is named in a choice or a question (shown as plain text)."""
    return f"{format_when(interaction.at)} · {interaction.kind} · {interaction.subject}"


def _deleted_interaction(user: UserView, customer_id: int, interaction_id: int) -> None:
    """The confirmed delete, as a callback so the choice of interaction can be reset."""
    state = st.session_state
    state.pop(f"interaction_delete_{interaction_id}", None)
    try:
        profile.delete_interaction(user.actor, interaction_id)
    except (PermissionDenied, profile.InteractionNotFound) as refused:
        state[_log_key(customer_id, "change_error")] = str(refused)
        return
    state[f"change_interaction_{customer_id}"] = None
    state[_log_key(customer_id, "toast")] = "Interaction deleted."


def _corrected_interaction(user: UserView, customer_id: int, interaction_id: int) -> None:
    """The correction form's submit callback. The choice above names the contact by its
    subject, which the browser sends back as text; a corrected subject no longer matches
    it, so the callback chooses the contact again by id before the choice is drawn."""
    state = st.session_state
    values = {name: state[f"interaction_{interaction_id}_{name}"]
              for name in profile.INTERACTION_FIELDS}
    try:
        profile.update_interaction(user.actor, interaction_id, **values)
    except InvalidFields as error:
        state[f"interaction_{interaction_id}_errors"] = list(error.errors.values())
        return
    except (PermissionDenied, profile.InteractionNotFound) as refused:
        state[_log_key(customer_id, "change_error")] = str(refused)
        state[f"change_interaction_{customer_id}"] = None
        return
    state.pop(f"interaction_{interaction_id}_errors", None)
    state[f"change_interaction_{customer_id}"] = interaction_id
    state[_log_key(customer_id, "toast")] = "Correction saved."


def _change_interaction(user: UserView, customer_id: int, rows: list[Interaction]) -> None:
    """Correct or delete one of the interactions the service says this user may change."""
    changeable = {i.id: i for i in rows if profile.may_change_interaction(user.actor, i)}
    if error := st.session_state.pop(_log_key(customer_id, "change_error"), None):
        st.error(plain(error))
    if not changeable:
        return
    chosen = st.selectbox(
        "Correct or delete an interaction", list(changeable), index=None,
        format_func=lambda interaction_id: _interaction_label(changeable[interaction_id]),
        key=f"change_interaction_{customer_id}", placeholder="Choose an interaction",
        help="Its author or an admin may change an interaction for 24 hours after logging it.")
    if chosen is None:
        return
    interaction = changeable[chosen]
    with st.form(f"interaction_{chosen}"):
        left, right = st.columns(2)
        left.selectbox("Kind", INTERACTION_KINDS, index=INTERACTION_KINDS.index(interaction.kind),
                       key=f"interaction_{chosen}_kind")
        right.selectbox("Direction", DIRECTIONS, index=DIRECTIONS.index(interaction.direction),
                        key=f"interaction_{chosen}_direction")
        st.text_input("Subject", value=interaction.subject, max_chars=200,
                      key=f"interaction_{chosen}_subject")
        st.text_area("Summary", value=interaction.summary or "", max_chars=4000,
                     key=f"interaction_{chosen}_summary")
        st.text_input("Outcome", value=interaction.outcome or "", max_chars=100,
                      key=f"interaction_{chosen}_outcome")
        for message in st.session_state.get(f"interaction_{chosen}_errors", []):
            st.error(plain(message))
        st.form_submit_button("Save correction", on_click=_corrected_interaction,
                              args=(user, customer_id, chosen))
    confirm_key = f"interaction_delete_{chosen}"
    if not st.session_state.get(confirm_key):
        if st.button("Delete this interaction…", key=f"interaction_delete_ask_{chosen}"):
            st.session_state[confirm_key] = True
            st.rerun()
        return
    st.warning(plain(f"Delete “{_interaction_label(interaction)}”? It leaves the profile and "
                     "the contact counts; the audit trail keeps what it said."))
    yes, no = st.columns(2)
    yes.button("Yes, delete it", type="primary", key=f"interaction_delete_yes_{chosen}",
               on_click=_deleted_interaction, args=(user, customer_id, chosen))
    if no.button("Cancel", key=f"interaction_delete_no_{chosen}"):
        del st.session_state[confirm_key]
        st.rerun()


def _interactions_tab(user: UserView, customer_id: int) -> None:
    if user.actor.can(Capability.EDIT_CUSTOMER):
        _log_form(user, customer_id)
    rows = profile.interactions(user.actor, customer_id)
    if not rows:
        st.info("No interactions yet.")
        return
    st.dataframe(pd.DataFrame([{"When (UTC)": i.at, "Kind": i.kind, "Direction": i.direction,
                                "Subject": i.subject, "Summary": i.summary or "",
                                "Outcome": i.outcome or ""} for i in rows]),
                 hide_index=True, column_config={"When (UTC)": st.column_config.DatetimeColumn(
                     format="YYYY-MM-DD HH:mm")})
    _change_interaction(user, customer_id, rows)


def _feedback_tab(user: UserView, customer_id: int) -> None:
    rows = profile.feedback(user.actor, customer_id)
    if not rows:
        st.info("No feedback yet.")
        return
    st.dataframe(pd.DataFrame([{"When (UTC)": f.at, "NPS": f.nps_score,
                                "Comment": f.comment or ""} for f in rows]), hide_index=True)


def _payments_tab(user: UserView, customer_id: int) -> None:
    cards = profile.payment_methods(user.actor, customer_id)
    if not cards:
        st.info("No stored payment methods.")
        return
    st.dataframe(pd.DataFrame([{"Brand": c.brand, "Card": c.masked_number, "Expiry": c.expiry,
                                "Expired": c.expired} for c in cards]), hide_index=True)


def _names_the_import(event: AuditEvent, change: FieldChange) -> bool:
    return event.action == "customer.import" and change.field == "import"


def _action(event: AuditEvent, changes: list[FieldChange]) -> str:
    """The event's action; an import's says which import changed the customer."""
    number = next((c.new for c in changes if _names_the_import(event, c)), None)
    return event.action if number is None else f"changed by import {number}"


def _history_tab(user: UserView, customer_id: int) -> None:
    page = search_events(user.actor, AuditFilter(entity="customer", entity_id=str(customer_id)),
                         limit=200)
    rows = [{"When (UTC)": event.at, "By": event.actor, "Action": _action(event, changes),
             "Field": change.field, "Old": "—" if change.old is None else str(change.old),
             "New": "—" if change.new is None else str(change.new)}
            for event in page.events
            for changes in [field_changes(event)]
            for change in changes if not _names_the_import(event, change)]
    if not rows:
        st.info("No recorded changes.")
        return
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "When (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})


def _export(user: UserView, customer_id: int) -> None:
    """The customer's complete record as a file: what this user's role sees on the profile."""
    with st.expander("Export this customer's record"):
        export_panel(
            user, key=f"record_export_{customer_id}", scope=customer_id, rows_are="rows",
            make=lambda fmt, _everyone: export_record(user.actor, customer_id, fmt=fmt),
            file_of=_made, refusals=(ExportError, PermissionDenied,
                                                 CustomerNotFound),
            consent_rule=False, format_names={"xlsx": "Excel", "csv": "CSV (zip)"},
            note="Details, orders, interactions, consent history, tags and feedback"
                 + (" and payment methods (masked)"
                    if user.actor.can(Capability.VIEW_PAYMENT_DETAILS) else "")
                 + ": Excel with a sheet each, or a zip of one CSV each. Recorded in the "
                   "audit trail.")


def _made(made: ExportFile) -> ExportFile:
    return made


def main() -> None:
    user = require_page(Capability.LOOKUP, "customer profiles")
    customer_id = _customer_id()
    merged_from = st.session_state.pop(MERGED_FROM, None)
    unsaved_there = st.session_state.pop(MERGED_UNSAVED, "")
    try:
        if customer_id is None:
            raise CustomerNotFound("Open a customer from Lookup.")
        customer = get_customer(user.actor, customer_id)
    except customers.CustomerMerged as merged:
        _follow_merge(merged)
        return
    except customers.CustomerErased as erased:
        _erased_profile(erased)
        return
    except customers.CustomerDeleted as deleted:
        _deleted_profile(user, deleted, _unsaved(deleted.gone.id))
        return
    except CustomerNotFound as error:
        st.warning(str(error))
        st.page_link(str(LOOKUP_PAGE), label="Go to Lookup", icon=":material/search:")
        return
    numbers = profile.figures(user.actor, customer_id)
    _header(user, customer, numbers)
    if merged_from is not None and unsaved_there:
        st.warning(plain(f"Customer {merged_from} was merged into this customer before your "
                         f"changes were saved: they were not saved. {unsaved_there}. Enter "
                         "them here if they still apply."))
    elif merged_from is not None:
        st.info(f"Customer {merged_from} was merged into this customer ({customer_id}): "
                "links to it open this profile.")
    restriction_panel(user, customer_id)
    _figures(numbers)
    predictions_panel(user, customer_id)
    names = ["Details", "Orders", "Interactions", "Feedback", "Consent"]
    if user.actor.can(Capability.VIEW_PAYMENT_DETAILS):
        names.append("Payment methods")
    if user.actor.can(Capability.VIEW_AUDIT):
        names.append("History")
    if user.actor.can(Capability.ADMINISTER):
        names.append("Privacy")
    tabs = dict(zip(names, st.tabs(names), strict=True))
    with tabs["Details"]:
        _conflict(customer)
        _edit_form(user, customer)
        _delete(user, customer)
    with tabs["Orders"]:
        _orders_tab(user, customer_id)
    with tabs["Interactions"]:
        _interactions_tab(user, customer_id)
    with tabs["Feedback"]:
        _feedback_tab(user, customer_id)
    with tabs["Consent"]:
        consent_tab(user, customer_id)
    if "Payment methods" in tabs:
        with tabs["Payment methods"]:
            _payments_tab(user, customer_id)
    if "History" in tabs:
        with tabs["History"]:
            _history_tab(user, customer_id)
    if "Privacy" in tabs:
        with tabs["Privacy"]:
            privacy_tab(user, customer_id)
    _export(user, customer_id)


main()
