"""The tables of predictions: each fit's parameters and check, and the newest scores.

``prediction_fit`` keeps every fit (a few rows a year; the page shows the newest);
``customer_prediction`` holds one row per live customer of the newest fit only, replaced
by the next fit in the same transaction. A customer's row goes with them (``ON DELETE
CASCADE``); scores are NULL where the model does not apply (no purchase yet).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, SmallInteger, Text
from sqlmodel import Field, SQLModel

from db.models import timestamp_field


class PredictionFit(SQLModel, table=True):
    """One fit of BG/NBD and Gamma-Gamma, who made it, on what, and how well it checked."""

    __tablename__ = "prediction_fit"

    id: int | None = Field(default=None, primary_key=True)
    fitted_at: datetime = timestamp_field()
    fitted_by: str = Field(max_length=50)
    unit: str = Field(max_length=10)  # the time unit of the histories: days, weeks, months
    as_of: date  # the last day of the histories (the scoring day)
    params: str = Field(sa_type=Text)  # JSON: {"bgnbd": {r, alpha, a, b}, "gamma_gamma": ...}
    customers_scored: int  # live customers given a row, buyers or not
    buyers: int  # of them, customers with a purchase (the model applies)
    repeat_buyers: int  # of them, customers with a repeat purchase
    monthly_discount: float  # the discount rate of the 12-month value
    holdout: str | None = Field(default=None, sa_type=Text)  # JSON of the HoldoutCheck
    holdout_problem: str | None = Field(default=None, max_length=500)  # why it is missing
    seconds: float  # how long the fit took, reading and storing included


class CustomerPrediction(SQLModel, table=True):
    """A live customer's scores from the newest fit, with the history they came from."""

    __tablename__ = "customer_prediction"
    __table_args__ = (
        Index("ix_customer_prediction_p_alive", "p_alive"),
        Index("ix_customer_prediction_value_12m", "value_12m"),
    )

    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    fit_id: int = Field(foreign_key="prediction_fit.id", index=True, ondelete="CASCADE")
    kind: int = Field(sa_type=SmallInteger)  # db.predict.histories.Kind
    repeat_purchases: int = 0  # x: purchase days after the first
    first_purchase_on: date | None = None
    last_purchase_on: date | None = None
    p_alive: float | None = None
    expected_purchases_90d: float | None = None
    expected_spend: float | None = None  # per purchase, in the house currency
    value_12m: float | None = None  # discounted, in the house currency
