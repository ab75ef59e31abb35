"""The model check: fit on a calibration period, predict the holdout period after it, and
compare with what the customers actually bought.

The customers checked are those with a purchase by the cut day (the model can say nothing
of the others). Each one's predicted holdout purchases are BG/NBD's conditional expectation
(:func:`db.predict.bgnbd.expected_purchases`) over the holdout's length; actual purchases
count purchase days in the holdout as :mod:`db.predict.histories` counts them. Both are
summed per calibration frequency group (0, 1, …, 6 repeat purchases, and 7+) and in total.

Error figures: ``total_error_pct`` = (predicted total − actual total) / actual total × 100,
and ``mae`` = the mean absolute difference per customer between predicted and actual.

The default split (:func:`check_read`, :func:`check_database`) holds out the last quarter
(91 days) before the scoring day and calibrates on everything before it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy import Engine

from db.predict import bgnbd
from db.predict.histories import (
    DEFAULT_UNIT,
    Histories,
    Orders,
    _day_number,
    default_as_of,
    histories_at,
    histories_from_orders,
    read_orders,
    unit_days,
)

HOLDOUT_DAYS = 91  # a quarter
TOP_GROUP = 7  # frequency groups 0..6 and "7+"


@dataclass(frozen=True)
class FrequencyGroup:
    """Customers with ``label`` repeat purchases in calibration, and their holdout totals."""

    label: str  # "0" … "6", "7+"
    customers: int
    predicted: float
    actual: int


@dataclass(frozen=True)
class HoldoutCheck:
    """Predicted against actual repeat purchases in the holdout period."""

    calibration_end: date  # the last day fitted on
    holdout_end: date  # the last day of the holdout
    unit: str
    params: bgnbd.BgNbdParams  # fitted on the calibration period
    customers: int
    groups: tuple[FrequencyGroup, ...]
    predicted_total: float
    actual_total: int
    total_error_pct: float  # (predicted - actual) / actual × 100; 0 when both are 0
    mae: float  # mean absolute error per customer, in purchases

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able figures (dates as ISO text), as stored with a fit."""
        figures = asdict(self)
        figures["calibration_end"] = self.calibration_end.isoformat()
        figures["holdout_end"] = self.holdout_end.isoformat()
        return figures

    @classmethod
    def from_dict(cls, figures: dict[str, Any]) -> HoldoutCheck:
        return cls(
            calibration_end=date.fromisoformat(figures["calibration_end"]),
            holdout_end=date.fromisoformat(figures["holdout_end"]), unit=figures["unit"],
            params=bgnbd.BgNbdParams(**figures["params"]), customers=figures["customers"],
            groups=tuple(FrequencyGroup(**group) for group in figures["groups"]),
            predicted_total=figures["predicted_total"], actual_total=figures["actual_total"],
            total_error_pct=figures["total_error_pct"], mae=figures["mae"])


def compare(calibration: Histories, actual: NDArray[np.integer], *, holdout_end: date,
            params: bgnbd.BgNbdParams | None = None) -> HoldoutCheck:
    """Fit on ``calibration`` (unless ``params`` are given) and compare its predictions for
    the days after ``calibration.as_of`` up to ``holdout_end`` with ``actual`` (holdout
    purchases per calibration customer, in the same order). Customers without a purchase
    in calibration are left out. Raises :class:`db.predict.bgnbd.FitFailed`."""
    buyers = calibration.buyers
    cal = calibration.subset(buyers)
    actual = np.asarray(actual)[buyers]
    params = params or bgnbd.fit(cal.x, cal.t_x, cal.T)
    length = (holdout_end - calibration.as_of).days / unit_days(calibration.unit)
    predicted = bgnbd.expected_purchases(params, length, cal.x, cal.t_x, cal.T)
    group = np.minimum(cal.x, TOP_GROUP).astype(np.int64)
    groups = tuple(
        FrequencyGroup(label=f"{g}+" if g == TOP_GROUP else str(g),
                       customers=int((group == g).sum()),
                       predicted=round(float(predicted[group == g].sum()), 2),
                       actual=int(actual[group == g].sum()))
        for g in range(TOP_GROUP + 1))
    predicted_total, actual_total = float(predicted.sum()), int(actual.sum())
    error = (0.0 if actual_total == predicted_total == 0 else
             (predicted_total - actual_total) / max(actual_total, 1) * 100)
    mae = float(np.abs(predicted - actual).mean()) if actual.size else 0.0
    return HoldoutCheck(calibration.as_of, holdout_end, calibration.unit, params,
                        int(cal.x.size), groups, round(predicted_total, 2), actual_total,
                        round(error, 2), round(mae, 4))


def check_orders(orders: pd.DataFrame, *, calibration_end: date, holdout_end: date,
                 unit: str = DEFAULT_UNIT) -> HoldoutCheck:
    """:func:`compare` for an order table outside the database (columns ``customer_id``,
    ``day``, ``amount``), such as the CDNOW sample."""
    calibration = histories_from_orders(orders, as_of=calibration_end, unit=unit)
    days = _day_number(orders["day"])
    later = orders[(days > calibration_end.toordinal()) & (days <= holdout_end.toordinal())
                   & (orders["amount"] >= 0)]
    counts = later.assign(day=days).groupby("customer_id")["day"].nunique()
    actual = counts.reindex(calibration.customer_id, fill_value=0).to_numpy(dtype=np.int64)
    return compare(calibration, actual, holdout_end=holdout_end)


def holdout_purchases(orders: Orders, ids: NDArray[np.int64], *, after: date,
                      through: date) -> NDArray[np.int64]:
    """Purchase days of each customer in ``ids`` (sorted) from the day after ``after`` to
    ``through``, in the order of ``ids``."""
    inside = ((orders.day > after.toordinal()) & (orders.day <= through.toordinal())
              & (orders.cents >= 0))
    who, days = orders.customer_id[inside], orders.day[inside]  # in (customer, day) order
    new_day = np.r_[True, (who[1:] != who[:-1]) | (days[1:] != days[:-1])] if who.size \
        else np.zeros(0, dtype=bool)
    buyers, counts = np.unique(who[new_day], return_counts=True)
    actual = np.zeros(ids.size, dtype=np.int64)
    position = np.searchsorted(ids, buyers)
    known = (position < ids.size) & (ids[np.minimum(position, ids.size - 1)] == buyers)
    actual[position[known]] = counts[known]
    return actual


def check_read(orders: Orders, *, holdout_end: date, calibration_end: date | None = None,
               unit: str = DEFAULT_UNIT) -> HoldoutCheck:
    """The check on orders already read (:func:`db.predict.histories.read_orders`, through
    ``holdout_end`` at least): by default the holdout is the last :data:`HOLDOUT_DAYS` days
    up to ``holdout_end`` and calibration everything before."""
    calibration_end = calibration_end or holdout_end - timedelta(days=HOLDOUT_DAYS)
    calibration = histories_at(orders, as_of=calibration_end, unit=unit)
    actual = holdout_purchases(orders, calibration.customer_id, after=calibration_end,
                               through=holdout_end)
    return compare(calibration, actual, holdout_end=holdout_end)


def check_database(engine: Engine, *, holdout_end: date | None = None,
                   calibration_end: date | None = None, unit: str = DEFAULT_UNIT) -> HoldoutCheck:
    """:func:`check_read` on the live customers' orders (``holdout_end`` by default the
    scoring day, :func:`db.predict.histories.default_as_of`)."""
    holdout_end = holdout_end or default_as_of(engine)
    return check_read(read_orders(engine, through=holdout_end), holdout_end=holdout_end,
                      calibration_end=calibration_end, unit=unit)
