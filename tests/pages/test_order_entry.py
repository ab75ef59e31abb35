"""Order entry on the customer profile through the real app: an order and a refund are
recorded and shown at once, a refusal keeps what was typed, marketing has no form, and a
second submit of the same order records nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from db.core.types import utcnow
from db.customers import profile
from db.models import Order
from tests import factories
from tests.factories import MANAGER
from tests.pages.conftest import open_profile


@pytest.fixture
def ada(app_db: Engine) -> int:
    customer = factories.customer(app_db, "Ada", "Byron", country="GB")
    assert customer.id is not None
    return customer.id


def _type_order(at: AppTest, customer_id: int, **typed: object) -> None:
    """Fill the order form's fields given (text, choices, quantity, date) and submit it."""
    for name, value in typed.items():
        field = f"order_{customer_id}_{name}"
        if name == "kind":
            at.radio(key=field).set_value(value)
        elif name == "channel":
            at.selectbox(key=field).select(value)
        elif name == "quantity":
            at.number_input(key=field).set_value(value)
        elif name == "day":
            at.date_input(key=field).set_value(value)
        else:
            at.text_input(key=field).input(value)
    at.button(key=f"FormSubmitter:order_{customer_id}_form-Record").click().run()
    assert not at.exception, at.exception


def _orders(engine: Engine, customer_id: int) -> list[Order]:
    return profile.orders(MANAGER, customer_id, engine=engine)


def _metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def _listed(at: AppTest) -> list[tuple[float, str, str, int, str]]:
    frame = at.tabs[1].dataframe[0].value
    return list(zip(frame["Amount"], frame["Currency"], frame["Product"], frame["Qty"],
                    frame["Channel"], strict=True))


def test_a_manager_records_an_order_and_sees_it_at_once(
        signed_in: Callable[[str], AppTest], ada: int, app_db: Engine) -> None:
    at = open_profile(signed_in, "manager", ada)
    assert at.tabs[1].info[0].value == "No orders yet."
    _type_order(at, ada, amount="49,90", category="kitchen", product="Kettle", quantity=2,
                currency="chf")
    [order] = _orders(app_db, ada)
    assert (order.amount, order.currency, order.category, order.product, order.quantity,
            order.channel) == (Decimal("49.90"), "CHF", "kitchen", "Kettle", 2, "phone")
    assert utcnow() - order.ordered_at < timedelta(minutes=1)  # today: now
    assert _listed(at) == [(49.9, "CHF", "Kettle", 2, "phone")]
    assert (_metrics(at)["Orders"], _metrics(at)["Lifetime value"]) == ("1", "€49.90")
    # The form is empty again for the next order; the category, channel and currency stay.
    assert at.text_input(key=f"order_{ada}_amount").value == ""
    assert at.text_input(key=f"order_{ada}_product").value == ""
    assert at.text_input(key=f"order_{ada}_category").value == "kitchen"
    assert at.text_input(key=f"order_{ada}_currency").value == "CHF"  # as stored
    assert not at.error


def test_a_refund_is_typed_without_a_sign_and_stored_negative(
        signed_in: Callable[[str], AppTest], ada: int, app_db: Engine) -> None:
    factories.order(app_db, ada, "100.00")
    at = open_profile(signed_in, "manager", ada)
    yesterday = utcnow().date() - timedelta(days=1)
    _type_order(at, ada, kind="Refund", amount="30", category="books", product="Paperback",
                channel="store", day=yesterday)
    refund = next(order for order in _orders(app_db, ada) if order.amount < 0)
    assert (refund.amount, refund.channel) == (Decimal("-30.00"), "store")
    assert refund.ordered_at == datetime.combine(yesterday, datetime.min.time(),
                                                 UTC).replace(hour=12)
    # The refund is counted apart from the orders, and nets the lifetime value.
    assert (_metrics(at)["Orders"], _metrics(at)["Lifetime value"]) == ("1", "€70.00")
    assert (-30.0, "EUR", "Paperback", 1, "store") in _listed(at)
    assert at.radio(key=f"order_{ada}_kind").value == "Order"  # back to an order


@pytest.mark.parametrize(("amount", "message"), [
    ("12.345", "At most two decimal places (whole cents)."),
    ("twelve", "Give the amount as a number"),
    ("-12", "Type the amount without a sign; for money paid back choose Refund."),
])
def test_a_bad_amount_is_refused_beside_it_and_keeps_what_was_typed(
        signed_in: Callable[[str], AppTest], ada: int, app_db: Engine, amount: str,
        message: str) -> None:
    at = open_profile(signed_in, "manager", ada)
    _type_order(at, ada, amount=amount, category="kitchen", product="Kettle", quantity=3,
                currency="USD", channel="web")
    [error] = at.error
    assert error.value.replace("\\", "").startswith(message)
    assert _orders(app_db, ada) == []
    assert {name: at.text_input(key=f"order_{ada}_{name}").value
            for name in ("amount", "category", "product", "currency")} == {
        "amount": amount, "category": "kitchen", "product": "Kettle", "currency": "USD"}
    assert at.number_input(key=f"order_{ada}_quantity").value == 3
    assert at.selectbox(key=f"order_{ada}_channel").value == "web"
    _type_order(at, ada, amount="12.34", currency="XYZ")  # fixed, with another mistake
    assert [error.value.replace("\\", "") for error in at.error] == [
        "'XYZ' is not a currency: use its three-letter ISO 4217 code, such as EUR, USD or CHF."]
    _type_order(at, ada, currency="USD")
    assert [(order.amount, order.currency, order.quantity) for order in _orders(app_db, ada)
            ] == [(Decimal("12.34"), "USD", 3)]
    assert not at.error


def test_marketing_sees_the_orders_but_no_order_form(
        signed_in: Callable[[str], AppTest], ada: int, app_db: Engine) -> None:
    factories.order(app_db, ada, "10.00")
    at = open_profile(signed_in, "marketing", ada)
    assert len(at.tabs[1].dataframe) == 1
    assert not [widget for widget in at.text_input if str(widget.key).startswith("order_")]
    assert not [button for button in at.button if "order_" in str(button.key)]


def test_the_same_order_submitted_twice_within_seconds_is_recorded_once(
        signed_in: Callable[[str], AppTest], ada: int, app_db: Engine) -> None:
    at = open_profile(signed_in, "manager", ada)
    typed = {"amount": "19.90", "category": "kitchen", "product": "Kettle"}
    _type_order(at, ada, **typed)
    # A fast second click reaches the server with the form as it was before it emptied.
    _type_order(at, ada, **typed)
    assert len(_orders(app_db, ada)) == 1
    assert "already recorded" in at.tabs[1].info[0].value
    assert _metrics(at)["Orders"] == "1"
    # A click on the emptied form moments later records nothing and says nothing.
    _type_order(at, ada)
    assert len(_orders(app_db, ada)) == 1 and not at.error


def test_an_order_date_in_the_future_is_refused_beside_it_and_kept(
        signed_in: Callable[[str], AppTest], ada: int, app_db: Engine) -> None:
    """The picker's bound (today) turned a typed future day back into today, and a day
    after today counted as "now": the order was recorded today without a word."""
    at = open_profile(signed_in, "manager", ada)
    next_week = utcnow().date() + timedelta(days=7)
    _type_order(at, ada, amount="20", category="books", product="Atlas", day=next_week)
    assert "An order cannot be in the future." in [e.value.replace("\\", "") for e in at.error]
    assert at.date_input(key=f"order_{ada}_day").value == next_week
    assert at.text_input(key=f"order_{ada}_amount").value == "20"
    assert _orders(app_db, ada) == []
