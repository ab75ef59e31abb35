"""Fitting the models and storing the scores: :func:`fit_and_store` (admins), and
:func:`latest_fit` (everyone who may see customers).

A fit reads every live customer's orders once (:mod:`db.predict.histories`) outside the
write transaction, fits BG/NBD and Gamma-Gamma, runs the holdout check (:mod:`db.predict.holdout`)
and scores each customer:

- ``p_alive``: the probability the customer is still active (BG/NBD);
- ``expected_purchases_90d``: purchases expected in the next 90 days (BG/NBD);
- ``value_12m``: the next 12 months' expected purchases × expected spend per purchase
  (Gamma-Gamma), each month discounted by the monthly discount rate setting.

Then one transaction replaces every stored score, records the fit and its audit event
(``predict.fit``). A fit with too little data, or one the optimiser cannot make, raises
:class:`NotEnoughData` and stores nothing: the previous scores stay.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, delete, select
from sqlmodel import col

from db.admin.settings import current as current_settings
from db.audit import trail
from db.core.access import Actor, Capability, require
from db.core.bulk import indexes_deferred, insert_rows
from db.core.engine import get_engine, read_session, write_session
from db.core.sql import table_of
from db.core.types import utcnow
from db.predict import bgnbd, gamma_gamma
from db.predict.histories import (
    DEFAULT_UNIT,
    Histories,
    Kind,
    default_as_of,
    histories_at,
    read_orders,
    unit_days,
)
from db.predict.holdout import HoldoutCheck, check_read
from db.predict.models import CustomerPrediction, PredictionFit

__all__ = ["MIN_BUYERS", "MIN_REPEAT_BUYERS", "FitInfo", "NotEnoughData", "fit_and_store",
           "latest_fit", "score"]

# Below these the parameters are guesses: BG/NBD learns dropout from repeat buyers only.
MIN_BUYERS = 50
MIN_REPEAT_BUYERS = 20
HORIZON_DAYS = 90
VALUE_MONTHS = 12


class NotEnoughData(RuntimeError):
    """The fit was refused or failed; the message says why and that nothing was stored."""


@dataclass(frozen=True)
class FitInfo:
    """A stored fit: when, by whom, on what, its parameters and its holdout check."""

    id: int
    fitted_at: datetime
    fitted_by: str
    unit: str  # the time unit of r/alpha: "days", "weeks" or "months"
    as_of: date  # the last day of the histories
    bgnbd: bgnbd.BgNbdParams
    gamma_gamma: gamma_gamma.GammaGammaParams
    customers_scored: int
    buyers: int
    repeat_buyers: int
    monthly_discount: float
    holdout: HoldoutCheck | None  # None: the check could not be made (see holdout_problem)
    holdout_problem: str | None
    seconds: float

    def age_days(self, now: datetime | None = None) -> int:
        """Whole days since the fit."""
        return max(0, ((now or utcnow()) - self.fitted_at).days)

    def age_text(self, now: datetime | None = None) -> str:
        """"fitted today", "fitted 1 day ago", "fitted 12 days ago"."""
        days = self.age_days(now)
        return ("fitted today" if days == 0 else
                f"fitted {days} day{'s' if days != 1 else ''} ago")


@dataclass(frozen=True)
class Scores:
    """The models' figures for ``histories`` (NaN where the model does not apply)."""

    p_alive: np.ndarray
    expected_purchases_90d: np.ndarray
    expected_spend: np.ndarray
    value_12m: np.ndarray


def score(histories: Histories, params: bgnbd.BgNbdParams, spend: gamma_gamma.GammaGammaParams,
          *, monthly_discount: float) -> Scores:
    """Every customer's three scores and expected spend; NaN for customers without a
    purchase (no orders, refunds only)."""
    per_unit = unit_days(histories.unit)
    buyers = histories.buyers
    x, t_x, T = histories.x[buyers], histories.t_x[buyers], histories.T[buyers]
    figures = [np.full(len(histories), np.nan) for _ in range(4)]
    figures[0][buyers] = bgnbd.p_alive(params, x, t_x, T)
    figures[1][buyers] = bgnbd.expected_purchases(params, HORIZON_DAYS / per_unit, x, t_x, T)
    expected = gamma_gamma.expected_spend(spend, x, histories.m[buyers])
    figures[2][buyers] = expected
    figures[3][buyers] = gamma_gamma.value_over_months(
        params, expected, x, t_x, T, unit_days=per_unit, months=VALUE_MONTHS,
        monthly_discount=monthly_discount)
    return Scores(*figures)


def _fit_models(histories: Histories) -> tuple[bgnbd.BgNbdParams, gamma_gamma.GammaGammaParams]:
    buyers = int(histories.buyers.sum())
    repeat = int((histories.kind == Kind.REPEAT).sum())
    if buyers < MIN_BUYERS or repeat < MIN_REPEAT_BUYERS:
        raise NotEnoughData(
            f"Too little data to fit the model: {buyers:,} customers have bought and "
            f"{repeat:,} of them more than once; it needs at least {MIN_BUYERS} buyers and "
            f"{MIN_REPEAT_BUYERS} repeat buyers. Nothing was stored; earlier scores stay.")
    cohort = histories.subset(histories.buyers)
    try:
        params = bgnbd.fit(cohort.x, cohort.t_x, cohort.T)
        spend = gamma_gamma.fit(cohort.x, cohort.m)
    except bgnbd.FitFailed as error:
        raise NotEnoughData(f"The model could not be fitted: {error}. Nothing was stored; "
                            f"earlier scores stay.") from error
    return params, spend


def _checked(scores: Scores, buyers: np.ndarray) -> None:
    """Refuse nonsense before it is stored: every buyer's figures finite and in range."""
    p, n, s, v = (getattr(scores, name)[buyers] for name in
                  ("p_alive", "expected_purchases_90d", "expected_spend", "value_12m"))
    if not (np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1)) and np.all(np.isfinite(n))
            and np.all(n >= -1e-9) and np.all(np.isfinite(s)) and np.all(np.isfinite(v))):
        raise NotEnoughData("The fitted model gives figures out of range for some customers "
                            "(the fit is degenerate). Nothing was stored; earlier scores stay.")


def _day(ordinal: float) -> date:
    return date.fromordinal(round(ordinal))


def _rows(histories: Histories, scores: Scores, fit_id: int, sqlite: bool) -> Any:
    per_unit = unit_days(histories.unit)
    as_of = histories.as_of.toordinal()
    first = as_of - histories.T * per_unit
    last = first + histories.t_x * per_unit
    columns = [histories.customer_id.tolist(), histories.kind.tolist(),
               histories.x.astype(np.int64).tolist()]
    buyers = histories.buyers.tolist()
    figures = [np.round(getattr(scores, name), 6).tolist() for name in
               ("p_alive", "expected_purchases_90d", "expected_spend", "value_12m")]
    for i, customer_id in enumerate(columns[0]):
        bought = buyers[i]
        first_day = _day(first[i]) if bought else None
        last_day = _day(last[i]) if bought else None
        yield (customer_id, fit_id, columns[1][i], columns[2][i],
               first_day.isoformat() if sqlite and first_day else first_day,
               last_day.isoformat() if sqlite and last_day else last_day,
               *(None if not bought else figure[i] for figure in figures))


_COLUMNS = ("customer_id", "fit_id", "kind", "repeat_purchases", "first_purchase_on",
            "last_purchase_on", "p_alive", "expected_purchases_90d", "expected_spend",
            "value_12m")


def fit_and_store(actor: Actor, *, unit: str = DEFAULT_UNIT, as_of: date | None = None,
                  monthly_discount: float | None = None, holdout: bool = True,
                  engine: Engine | None = None) -> FitInfo:
    """Fit both models to the live customers' histories up to ``as_of`` (default: today, or
    the newest order's day on old data), score every live customer and store the scores in
    place of the previous fit's. Admins only; audited as ``predict.fit``.

    ``monthly_discount`` defaults to the setting; ``holdout=False`` skips the check (it reads
    the orders a second time). Raises :class:`NotEnoughData` (nothing stored) when there
    are fewer than :data:`MIN_BUYERS` buyers or :data:`MIN_REPEAT_BUYERS` repeat buyers or
    the fit fails."""
    require(actor, Capability.ADMINISTER)
    engine = engine or get_engine()
    started = time.perf_counter()
    unit_days(unit)
    as_of = as_of or default_as_of(engine)
    discount = (current_settings(engine=engine).monthly_discount_rate
                if monthly_discount is None else monthly_discount)
    orders = read_orders(engine, through=as_of)
    histories = histories_at(orders, as_of=as_of, unit=unit)
    params, spend = _fit_models(histories)
    scores = score(histories, params, spend, monthly_discount=discount)
    _checked(scores, histories.buyers)
    check: HoldoutCheck | None = None
    problem: str | None = "not run" if not holdout else None
    if holdout:
        try:
            check = check_read(orders, holdout_end=as_of, unit=unit)
        except bgnbd.FitFailed as error:
            problem = f"The calibration period has too little data to fit: {error}"
    row = PredictionFit(
        fitted_by=actor.username[:50], unit=unit, as_of=as_of,
        params=json.dumps({"bgnbd": params.as_dict(), "gamma_gamma": spend.as_dict()}),
        customers_scored=len(histories), buyers=int(histories.buyers.sum()),
        repeat_buyers=int((histories.kind == Kind.REPEAT).sum()), monthly_discount=discount,
        holdout=None if check is None else json.dumps(check.as_dict()),
        holdout_problem=problem, seconds=0.0)
    table = table_of(CustomerPrediction)
    with write_session(engine) as session:
        session.add(row)
        session.flush()
        assert row.id is not None
        connection = session.connection()
        # Indexes rebuilt once after the load: deleting and inserting a million rows with
        # three indexes kept up row by row took 23 s on SQLite.
        with indexes_deferred(connection, [table]):
            session.execute(delete(table))
            insert_rows(connection, table, _COLUMNS,
                        _rows(histories, scores, row.id, connection.dialect.name == "sqlite"))
        row.seconds = round(time.perf_counter() - started, 3)
        trail.record(session, actor=actor.username, action="predict.fit",
                     entity="prediction_fit", entity_id=row.id, changes={
                         "unit": unit, "as_of": as_of.isoformat(),
                         "customers_scored": row.customers_scored, "buyers": row.buyers,
                         "repeat_buyers": row.repeat_buyers, "monthly_discount": discount,
                         "bgnbd": params.as_dict(), "gamma_gamma": spend.as_dict(),
                         "holdout_error_pct": None if check is None else check.total_error_pct,
                         "seconds": row.seconds},
                     source="cli" if actor.username.startswith("cli:") else "form")
        return _info(row)


def _info(row: PredictionFit) -> FitInfo:
    params = json.loads(row.params)
    assert row.id is not None
    return FitInfo(
        id=row.id, fitted_at=row.fitted_at, fitted_by=row.fitted_by, unit=row.unit,
        as_of=row.as_of, bgnbd=bgnbd.BgNbdParams(**params["bgnbd"]),
        gamma_gamma=gamma_gamma.GammaGammaParams(**params["gamma_gamma"]),
        customers_scored=row.customers_scored, buyers=row.buyers,
        repeat_buyers=row.repeat_buyers, monthly_discount=row.monthly_discount,
        holdout=None if row.holdout is None else HoldoutCheck.from_dict(json.loads(row.holdout)),
        holdout_problem=row.holdout_problem, seconds=row.seconds)


def latest_fit(actor: Actor, *, engine: Engine | None = None) -> FitInfo | None:
    """The newest fit, or None before the first. Everyone who may look customers up."""
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        row = session.scalars(select(PredictionFit).order_by(
            col(PredictionFit.id).desc()).limit(1)).first()
        return None if row is None else _info(row)
