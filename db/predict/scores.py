"""One customer's stored scores with a plain one-line explanation of each
(:func:`customer_scores`), for the profile. Everyone who may look customers up may read them.

Wording is defined for every kind of history (:class:`db.predict.histories.Kind`): a customer
without orders, with refunds only, with one purchase (a single order, or all on one day), and
a repeat buyer. A customer added after the newest fit has no row: :func:`customer_scores`
returns None and the page says :data:`NOT_SCORED`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, select
from sqlmodel import col

from db.core.access import Actor, Capability, require
from db.core.engine import read_session
from db.predict.histories import Kind
from db.predict.models import CustomerPrediction, PredictionFit

NOT_SCORED = ("Not scored yet: the customer was added after the newest fit (or no fit has "
              "been made). The next fit scores them.")
_NO_PURCHASE = {
    Kind.NO_ORDERS: "No purchase yet, so the model has nothing to go on; it scores customers "
                    "from their first purchase on.",
    Kind.REFUNDS_ONLY: "Only refunds on file, no purchase, so the model has nothing to go on; "
                       "it scores customers from their first purchase on.",
}


@dataclass(frozen=True)
class CustomerScores:
    """A customer's scores from the fit of ``fitted_at``; the figures are None exactly when
    the customer has no purchase (``kind`` NO_ORDERS or REFUNDS_ONLY)."""

    customer_id: int
    fit_id: int
    fitted_at: datetime
    kind: Kind
    repeat_purchases: int
    first_purchase_on: date | None
    last_purchase_on: date | None
    p_alive: float | None  # 0..1
    expected_purchases_90d: float | None
    expected_spend: float | None  # per purchase, house currency
    value_12m: float | None  # house currency, discounted
    p_alive_text: str
    purchases_text: str
    value_text: str


def _money(amount: float) -> str:
    return f"€{amount:,.2f}"


def explain(kind: Kind, *, repeat_purchases: int, last_purchase_on: date | None,
            as_of: date, p_alive: float | None, expected_purchases_90d: float | None,
            expected_spend: float | None, value_12m: float | None) -> tuple[str, str, str]:
    """The three one-line explanations: probability active, purchases in 90 days, value."""
    if kind in _NO_PURCHASE or p_alive is None or expected_purchases_90d is None \
            or expected_spend is None or value_12m is None or last_purchase_on is None:
        text = _NO_PURCHASE.get(kind, NOT_SCORED)
        return text, text, text
    quiet = (as_of - last_purchase_on).days
    if kind == Kind.ONE_PURCHASE:
        alive = (f"{p_alive:.0%}: one purchase so far ({quiet} days before the fit); the model "
                 f"assumes customers only stop after buying again, so a one-time buyer counts "
                 f"as active — the expected purchases show how likely a return is.")
    else:
        alive = (f"{p_alive:.0%} chance still active: bought on {repeat_purchases + 1} days, "
                 f"the last {quiet} days before the fit; the longer the quiet spell compared "
                 f"with their usual pace, the lower.")
    purchases = (f"{expected_purchases_90d:.2f} purchases expected in the next 90 days, from "
                 f"their pace of buying and the chance they are still active.")
    value = (f"{_money(value_12m)} expected over 12 months: purchases expected each month × "
             f"{_money(expected_spend)} expected per purchase"
             + (" (the average customer's, with no repeat purchase of their own yet)"
                if kind == Kind.ONE_PURCHASE else "")
             + ", discounted.")
    return alive, purchases, value


def customer_scores(actor: Actor, customer_id: int, *,
                    engine: Engine | None = None) -> CustomerScores | None:
    """The customer's scores from the newest fit, or None when they have none (see
    :data:`NOT_SCORED`)."""
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        found = session.execute(
            select(CustomerPrediction, PredictionFit)
            .join(PredictionFit, col(PredictionFit.id) == col(CustomerPrediction.fit_id))
            .where(col(CustomerPrediction.customer_id) == customer_id)).first()
    if found is None:
        return None
    row, fit = found
    kind = Kind(row.kind)
    texts = explain(kind, repeat_purchases=row.repeat_purchases,
                    last_purchase_on=row.last_purchase_on, as_of=fit.as_of,
                    p_alive=row.p_alive, expected_purchases_90d=row.expected_purchases_90d,
                    expected_spend=row.expected_spend, value_12m=row.value_12m)
    assert fit.id is not None
    return CustomerScores(
        customer_id=row.customer_id, fit_id=fit.id, fitted_at=fit.fitted_at, kind=kind,
        repeat_purchases=row.repeat_purchases, first_purchase_on=row.first_purchase_on,
        last_purchase_on=row.last_purchase_on, p_alive=row.p_alive,
        expected_purchases_90d=row.expected_purchases_90d, expected_spend=row.expected_spend,
        value_12m=row.value_12m, p_alive_text=texts[0], purchases_text=texts[1],
        value_text=texts[2])
