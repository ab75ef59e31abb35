"""The profile's order entry: record a phone order or a refund by hand through
:func:`db.customers.orders.record_order`, which validates, audits and refuses a double submit.

A refund is chosen with the "Refund" choice and typed as the amount paid back, without a
sign: a clerk reads "refund" on the receipt, and a stray or missing minus sign would
otherwise silently turn one into the other. Each refusal is shown beside its field and
everything typed stays; a recorded order empties the amount, product and quantity (the
category, channel and currency stay for the next order of the same call).

The form is submitted through a callback, which runs before the page script: the figures
and the orders list drawn after it already hold the new order.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard.date_bounds import EARLIEST, LATEST
from dashboard.text import plain
from db.admin import settings
from db.core.types import utcnow
from db.customers.orders import AlreadyRecorded, record_order
from db.customers.service import CustomerNotFound
from db.customers.validation import InvalidFields
from db.models import ORDER_CHANNELS
from db.users.service import UserView

KINDS = ("Order", "Refund")
# Hand-entered orders mostly come by phone, so the channel choice starts there.
CHANNELS = ("phone", *(channel for channel in ORDER_CHANNELS if channel != "phone"))
# An emptied form submitted this soon after an order was recorded is a double click's
# second click, which reached the browser's form after it emptied.
DOUBLE_CLICK_SECONDS = 5
# A past day's order, whose hour nobody knows, is stored at noon UTC: inside that UTC day
# in every time zone within twelve hours of it, so it counts on the day that was typed.
PAST_DAY_TIME = time(12, tzinfo=UTC)


def key(customer_id: int, name: str) -> str:
    """The session-state key of the order form's ``name`` for ``customer_id``."""
    return f"order_{customer_id}_{name}"


def _ordered_at(day: date) -> datetime | None:
    """None (now) for today's order; noon UTC of any other day (a later one is then refused
    by the order service, beside the date, rather than quietly recorded as now)."""
    return None if day == utcnow().date() else datetime.combine(day, PAST_DAY_TIME)


def _reset(customer_id: int) -> None:
    state = st.session_state
    state[key(customer_id, "kind")] = KINDS[0]
    state[key(customer_id, "amount")] = ""
    state[key(customer_id, "product")] = ""
    state[key(customer_id, "quantity")] = 1
    state[key(customer_id, "day")] = utcnow().date()


def _submitted(user: UserView, customer_id: int) -> None:
    """The form's submit callback: record the order, or keep everything typed and say
    beside each field what is wrong."""
    state = st.session_state
    value = {name: state[key(customer_id, name)]
             for name in ("kind", "amount", "currency", "category", "channel", "product",
                          "quantity", "day")}
    amount, refund = str(value["amount"]).strip(), value["kind"] == "Refund"
    last = state.get(key(customer_id, "recorded"))
    if (not amount and not str(value["product"]).strip() and last
            and (utcnow() - last).total_seconds() < DOUBLE_CLICK_SECONDS):
        return  # the second click of a double click landed on the emptied form
    if amount.startswith(("-", "+")):
        state[key(customer_id, "errors")] = {
            "amount": "Type the amount without a sign; for money paid back choose Refund."}
        return
    try:
        recorded = record_order(user.actor, customer_id, amount=f"-{amount}" if refund and amount
                     else amount, category=value["category"], channel=value["channel"],
                     product=value["product"], quantity=int(value["quantity"]),
                     currency=value["currency"], ordered_at=_ordered_at(value["day"]))
    except InvalidFields as error:
        state[key(customer_id, "errors")] = error.errors
        return
    except CustomerNotFound as gone:  # deleted since the page was drawn
        state[key(customer_id, "errors")] = {"form": str(gone)}
        return
    except AlreadyRecorded as already:
        state[key(customer_id, "notice")] = str(already)
    else:
        state[key(customer_id, "toast")] = "Refund recorded." if refund else "Order recorded."
        state[key(customer_id, "currency")] = recorded.currency  # as stored: upper case
    state[key(customer_id, "recorded")] = utcnow()
    state.pop(key(customer_id, "errors"), None)
    _reset(customer_id)


def order_form(user: UserView, customer_id: int) -> None:
    """The "Record an order or refund" form; only for users the order service lets record."""
    state = st.session_state
    if key(customer_id, "kind") not in state:
        _reset(customer_id)
        state[key(customer_id, "currency")] = settings.current().house_currency
        state[key(customer_id, "category")] = ""
        state[key(customer_id, "channel")] = CHANNELS[0]
    if message := state.pop(key(customer_id, "toast"), None):
        st.toast(message)
    if message := state.pop(key(customer_id, "notice"), None):
        st.info(plain(message))
    errors: dict[str, str] = state.get(key(customer_id, "errors"), {})

    def beside(column: DeltaGenerator, *names: str) -> None:
        for name in names:
            if name in errors:
                column.error(plain(errors[name]))

    st.caption("Record an order or refund")
    with st.form(key(customer_id, "form")):
        kind, amount, currency = st.columns([1, 1.4, 0.8])
        kind.radio("Kind", KINDS, horizontal=True, key=key(customer_id, "kind"),
                   help="A refund is money paid back: type the amount without a sign.")
        amount.text_input("Amount", key=key(customer_id, "amount"), max_chars=20,
                          placeholder="49.90")
        beside(amount, "amount")
        currency.text_input("Currency", key=key(customer_id, "currency"), max_chars=3,
                            help="ISO 4217 code, such as EUR, USD or CHF")
        beside(currency, "currency")
        category, product = st.columns(2)
        category.text_input("Category", key=key(customer_id, "category"), max_chars=50,
                            placeholder="e.g. books")
        beside(category, "category")
        product.text_input("Product", key=key(customer_id, "product"), max_chars=120)
        beside(product, "product")
        channel, quantity, day = st.columns(3)
        channel.selectbox("Channel", CHANNELS, key=key(customer_id, "channel"))
        beside(channel, "channel")
        quantity.number_input("Quantity", min_value=1, max_value=100_000, step=1,
                              key=key(customer_id, "quantity"))
        beside(quantity, "quantity")
        day.date_input("Order date", key=key(customer_id, "day"), format="YYYY-MM-DD",
                       min_value=EARLIEST, max_value=LATEST,
                       help="Today's order gets the current time; an earlier day's, "
                            "noon UTC.")
        beside(day, "ordered_at")
        if "form" in errors:
            st.error(plain(errors["form"]))
        st.form_submit_button("Record", on_click=_submitted, args=(user, customer_id))
