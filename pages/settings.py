"""Settings (admin): the installation's settings in one form. A refused value is explained
beside its field and everything typed stays; a saved form says so and shows who changed the
settings last. The rules and the audit are the service's (:mod:`db.admin.settings`)."""

from __future__ import annotations

import streamlit as st

from dashboard.access import require_page
from dashboard.text import format_when, plain
from db.admin import settings
from db.core.access import Actor, Capability
from db.core.fields import InvalidFields

PREFIX = "setting_"
ERRORS = "settings_errors"
LOADED = "settings_loaded"
TOAST = "settings_toast"

HELP = {
    "company_name": "Shown at the top of the menu and in the browser tab; may stay empty.",
    "house_currency": "ISO 4217 code (EUR, CHF, USD…): the currency an order form and an "
                      "import start from.",
    "stale_after_days": "A customer whose record nobody edited or re-imported for more "
                        "than this many days counts as stale (Data quality page).",
    "retention_years": "Years without an order or contact after which a customer's data is "
                       "due for anonymisation (retention report).",
    "sign_in_delay_after": "Failed sign-ins in a row before each further one delays the next "
                           "attempt (1 s, then doubling).",
    "longest_sign_in_delay_minutes": "The delay stops growing here: nobody, the admin "
                                     "included, is kept out longer after the latest failure.",
    "monthly_discount_rate": "Discounts each month's expected spend in the 12-month customer "
                             "value: 0.01 (or 1%) a month.",
}


def _key(name: str) -> str:
    return PREFIX + name


def _load(values: settings.AppSettings) -> None:
    """Put the stored values into the fields (as text, so a wrong number can be typed and
    kept, and refused with the service's words)."""
    loaded = {name: str(getattr(values, name)) for name in settings.NAMES}
    st.session_state[LOADED] = loaded
    for name, value in loaded.items():
        st.session_state[_key(name)] = value


def _save(actor: Actor) -> None:
    # Only what this admin edited: a setting another admin changed since the form was
    # filled keeps their value rather than being put back.
    loaded = st.session_state[LOADED]
    typed = {name: st.session_state[_key(name)] for name in settings.NAMES
             if st.session_state[_key(name)] != loaded[name]}
    try:
        stored = settings.update(actor, typed)
    except InvalidFields as refused:
        st.session_state[ERRORS] = refused.errors
        return
    st.session_state.pop(ERRORS, None)
    _load(stored)  # as stored: trimmed, upper-cased
    st.session_state[TOAST] = "Settings saved."


def main() -> None:
    admin = require_page(Capability.ADMINISTER, "Settings")
    st.title("Settings")
    if LOADED not in st.session_state:
        _load(settings.current())
    if message := st.session_state.pop(TOAST, None):
        st.toast(message)
    errors: dict[str, str] = st.session_state.get(ERRORS, {})
    with st.form("settings"):
        for name in settings.NAMES:
            st.text_input(settings.LABELS[name], key=_key(name), help=HELP[name],
                          max_chars=settings.COMPANY_NAME_LENGTH + 20)
            if name in errors:
                st.error(plain(errors[name]))
        st.form_submit_button("Save settings", on_click=_save, args=(admin.actor,))
    change = settings.last_change()
    st.caption(plain("Every setting has its default; nobody has changed one yet."
                     if change is None else
                     f"Last changed by {change.by} on {format_when(change.at)}."))


main()
