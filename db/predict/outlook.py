"""The KPI page's view of the newest fit (:func:`outlook`): predicted revenue for the next
90 days with a range, how customer value is spread, and who is at risk by value band.
Managers and admins (:attr:`Capability.VIEW_KPIS`); live customers only.

**The range.** Each scored customer's purchases in the next 90 days are taken as Poisson
with the stored mean μ (expected_purchases_90d), and each purchase's value as Gamma-Gamma's
predictive spend for that customer, with mean s (expected_spend) and second moment
s² (p + 1)/p · (q + p x − 1)/(q + p x − 2), capped where q + p x nears 2. Revenue is then a
compound Poisson sum with mean Σ μ s and variance Σ μ E[z²]; the range is the mean ± 1.645
standard deviations (about 90%, by the normal approximation; floored at 0). It covers the
randomness of who buys and for how much given the fitted parameters, not the uncertainty of
the parameters themselves, which over thousands of customers is the smaller part.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

from sqlalchemy import Engine, case, func, select

from db.core.access import Actor, Capability, require
from db.core.background import Computed
from db.core.engine import get_engine, read_session
from db.core.sql import table_of
from db.models import Customer, live
from db.predict.models import CustomerPrediction
from db.predict.service import FitInfo, latest_fit

# Lower edges of the 12-month value bands, in the house currency.
VALUE_BANDS = (0, 50, 100, 250, 500, 1000, 2500)
AT_RISK_BELOW = 0.3  # probability active under this counts as at risk
Z_90 = 1.645


@dataclass(frozen=True)
class ValueBand:
    """Customers whose 12-month value is in [low, high) (high None: no upper edge)."""

    label: str  # "0–50", …, "2,500 and more"
    low: float
    high: int | None
    customers: int
    value_12m: float  # their summed 12-month value
    at_risk: int  # of them, with p_alive below the threshold
    at_risk_value_12m: float


@dataclass(frozen=True)
class Outlook:
    """Figures of the newest fit for the KPI page."""

    fit: FitInfo
    revenue_90d: float  # expected revenue in the next 90 days, house currency
    revenue_90d_low: float  # the ~90% range (see the module docstring)
    revenue_90d_high: float
    scored: int  # live customers with scores (a purchase by the fit's day)
    not_scored: int  # live customers without (no purchase, or added since the fit)
    at_risk_below: float
    bands: tuple[ValueBand, ...]


def _label(low: float, high: int | None) -> str:
    return f"{low:,.0f} and more" if high is None else f"{low:,.0f}–{high:,.0f}"


def outlook(actor: Actor, *, at_risk_below: float = AT_RISK_BELOW,
            engine: Engine | None = None) -> Outlook | None:
    """The outlook of the newest fit, or None before the first fit."""
    require(actor, Capability.VIEW_KPIS)
    fit = latest_fit(actor, engine=engine)
    if fit is None:
        return None
    p, q = fit.gamma_gamma.p, fit.gamma_gamma.q
    score = table_of(CustomerPrediction).c
    customer = table_of(Customer).c
    shape = q + p * score.repeat_purchases
    # E[z²] / E[z]² of the customer's predictive spend; it grows without bound as the shape
    # nears 2 (no second moment below): capped at 5, its value at shape 2.25.
    ratio = case((shape > 2.25, (shape - 1) / (shape - 2)), else_=5.0)
    mean = score.expected_purchases_90d * score.expected_spend
    second = mean * score.expected_spend * ((p + 1) / p) * ratio
    band = case(*((score.value_12m >= low, index)
                  for index, low in reversed(list(enumerate(VALUE_BANDS)))), else_=0)
    at_risk = case((score.p_alive < at_risk_below, 1), else_=0)
    scored_live = (select().select_from(table_of(CustomerPrediction))
                   .join(Customer, customer.id == score.customer_id)
                   .where(live(), score.p_alive.is_not(None)))
    with read_session(engine) as session:
        live_count = session.execute(select(func.count()).select_from(
            table_of(Customer)).where(live())).scalar_one()
        # One pass over the scores, per band; the totals are the bands' sums (a second pass
        # for them was a third of the outlook's time at a million customers).
        per_band = {int(row[0]): row[1:] for row in session.execute(
            scored_live.add_columns(band, func.count(), func.sum(score.value_12m),
                                    func.sum(at_risk), func.sum(score.value_12m * at_risk),
                                    func.sum(mean), func.sum(second))
            .group_by(band))}
    bands = []
    for index, low in enumerate(VALUE_BANDS):
        high = VALUE_BANDS[index + 1] if index + 1 < len(VALUE_BANDS) else None
        count, value, risky, risky_value, _, _ = per_band.get(index, (0, 0.0, 0, 0.0, 0, 0))
        bands.append(ValueBand(_label(low, high), float(low), high, int(count),
                               round(float(value or 0.0), 2), int(risky or 0),
                               round(float(risky_value or 0.0), 2)))
    scored = sum(int(row[0]) for row in per_band.values())
    revenue = math.fsum(float(row[4] or 0.0) for row in per_band.values())
    variance = math.fsum(float(row[5] or 0.0) for row in per_band.values())
    spread = Z_90 * math.sqrt(max(float(variance or 0.0), 0.0))
    return Outlook(fit=fit, revenue_90d=round(revenue, 2),
                   revenue_90d_low=round(max(0.0, revenue - spread), 2),
                   revenue_90d_high=round(revenue + spread, 2), scored=int(scored),
                   not_scored=int(live_count) - int(scored), at_risk_below=at_risk_below,
                   bands=tuple(bands))


# The outlook per (database, data version): a grouped pass over every score and a count of
# the live customers, 0.9 s at a million customers, so the KPI page reads it from here and
# fills it in when computed; at the lowest CPU priority, as home starts it at sign-in (see
# db.core.background).
_OUTLOOKS: Computed[Outlook | None] = Computed("predictions outlook", nice=19)


def outlook_of_version(actor: Actor, version: Hashable, *, engine: Engine | None = None,
                       wait_s: float | None = None) -> tuple[bool, Outlook | None]:
    """:func:`outlook` computed once per ``version`` (a value that changes with every write,
    :func:`db.kpi.board.data_version`: a fit, a deleted or erased customer) in the
    background and shared by every session: (True, outlook) when known within ``wait_s``,
    (False, None) while it is computed (see :class:`db.core.background.Computed`)."""
    require(actor, Capability.VIEW_KPIS)
    engine = engine or get_engine()
    key = (engine.url.render_as_string(hide_password=True), version)
    return _OUTLOOKS.get(key, lambda: outlook(actor, engine=engine), wait_s=wait_s)


def warm_outlook(actor: Actor, version: Hashable, *, engine: Engine | None = None) -> None:
    """Start computing the outlook of ``version`` in the background unless it is known or
    under way, so the KPI page opened next need not wait for it (home, at sign-in)."""
    require(actor, Capability.VIEW_KPIS)
    engine = engine or get_engine()
    key = (engine.url.render_as_string(hide_password=True), version)
    _OUTLOOKS.start(key, lambda: outlook(actor, engine=engine))


def outlook_failed(version: Hashable, *, engine: Engine | None = None) -> bool:
    """Whether computing the outlook of ``version`` failed (the server's log says why)."""
    engine = engine or get_engine()
    return _OUTLOOKS.failed((engine.url.render_as_string(hide_password=True), version))


def forget_outlooks() -> None:
    """Drop every outlook computed (tests: a database emptied reaches old versions again)."""
    _OUTLOOKS.forget()
