"""The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV: Using
Iso-Value Curves for Customer Base Analysis"; Fader & Hardie, "The Gamma-Gamma Model of
Monetary Value", 2013 note), and the 12-month customer value built on it with BG/NBD.

A customer's purchases are worth z ~ Gamma(p, ν) each, with ν ~ Gamma(q, γ) across customers;
spend is assumed independent of how often a customer buys. A customer's evidence is ``x``
repeat purchases with mean value ``m``. :func:`fit` maximises the likelihood of the repeat
buyers (x > 0; the first purchase is left out, as the paper does) with L-BFGS-B on log-params.
:func:`expected_spend` is the posterior mean spend per purchase (equation 5 of the note): a
weighted average of the population mean and the customer's own mean; a customer with no repeat
purchase gets the population mean ``p γ / (q - 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import gammaln

from db.predict.bgnbd import BgNbdParams, FitFailed, expected_purchases

Floats = NDArray[np.float64]

# A month in days (365.25 / 12): CLV sums whole months of this length.
MONTH_DAYS = 30.4375


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters (γ, ``v``, in the currency's units)."""

    p: float
    q: float
    v: float

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "v": self.v}

    @property
    def population_mean(self) -> float:
        """The mean spend per purchase across customers, ``p γ / (q - 1)``."""
        return self.p * self.v / (self.q - 1)


def log_likelihood(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> Floats:
    """Each repeat buyer's log-likelihood of their mean spend ``m`` over ``x`` purchases."""
    p, q, v = params.p, params.q, params.v
    xs = np.asarray(x, dtype=np.float64)
    ms = np.asarray(m, dtype=np.float64)
    px = p * xs
    return np.asarray(gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
                      + (px - 1) * np.log(ms) + px * np.log(xs)
                      - (px + q) * np.log(xs * ms + v), dtype=np.float64)


def fit(x: ArrayLike, m: ArrayLike) -> GammaGammaParams:
    """The maximum-likelihood parameters over the customers with ``x > 0`` and ``m > 0``.
    Raises :class:`FitFailed` when there are none or no finite maximum with ``q > 1`` (the
    population mean would not exist)."""
    xs = np.asarray(x, dtype=np.float64)
    ms = np.asarray(m, dtype=np.float64)
    keep = (xs > 0) & (ms > 0)
    xs, ms = xs[keep], ms[keep]
    if xs.size == 0:
        raise FitFailed("no customer has a repeat purchase with a positive amount")
    stacked, counts = np.unique(np.column_stack([xs, ms]), axis=0, return_counts=True)
    xs, ms, weights = stacked[:, 0], stacked[:, 1], counts.astype(np.float64)
    total = float(weights.sum())

    x_values, x_index = np.unique(xs, return_inverse=True)
    log_m, log_x, spent = np.log(ms), np.log(xs), xs * ms

    def objective(log_params: Floats) -> float:
        p, q, v = np.exp(log_params)
        px = p * xs
        gammas = (gammaln(p * x_values + q) - gammaln(p * x_values))[x_index]
        value = -float(weights @ (gammas - gammaln(q) + q * np.log(v) + (px - 1) * log_m
                                  + px * log_x - (px + q) * np.log(spent + v))) / total
        return value if np.isfinite(value) else 1e12

    start = np.log([1.0, 2.0, max(float(weights @ ms) / total, 1e-6)])
    result = minimize(objective, start, method="L-BFGS-B", bounds=[(-12.0, 16.0)] * 3)
    p, q, v = (float(value) for value in np.exp(result.x))
    if not np.isfinite(result.fun) or result.fun >= 1e11 or not result.success:
        raise FitFailed(f"the spend model did not converge: {result.message}")
    if q <= 1 or np.any(result.x <= -11.9) or np.any(result.x >= 15.9):
        raise FitFailed("the spend model has no finite mean spend for these customers")
    return GammaGammaParams(p=p, q=q, v=v)


def expected_spend(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> Floats:
    """Each customer's expected spend per future purchase (the population mean for x = 0)."""
    p, q, v = params.p, params.q, params.v
    xs = np.asarray(x, dtype=np.float64)
    ms = np.where(xs > 0, np.asarray(m, dtype=np.float64), 0.0)
    return np.asarray((v * p + p * xs * ms) / (p * xs + q - 1), dtype=np.float64)


def value_over_months(bgnbd: BgNbdParams, spend: ArrayLike, x: ArrayLike, t_x: ArrayLike,
                      T: ArrayLike, *, unit_days: float, months: int = 12,
                      monthly_discount: float = 0.01) -> Floats:
    """Each customer's value of the next ``months`` months: the sum over months m = 1..N of
    the purchases expected in month m × expected spend / (1 + d)^m, where ``d`` is the
    monthly discount rate and a month is :data:`MONTH_DAYS` days in the histories' unit."""
    xs, ts, Ts = (np.asarray(value, dtype=np.float64) for value in (x, t_x, T))
    total = np.zeros_like(xs)
    before = np.zeros_like(xs)
    for month in range(1, months + 1):
        ahead = expected_purchases(bgnbd, month * MONTH_DAYS / unit_days, xs, ts, Ts)
        total += (ahead - before) / (1 + monthly_discount) ** month
        before = ahead
    return np.asarray(total * np.asarray(spend, dtype=np.float64), dtype=np.float64)
