"""The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, "Counting Your Customers
the Easy Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2)).

While alive, a customer buys at a Poisson rate λ ~ Gamma(r, α); after each purchase they drop
out with probability p ~ Beta(a, b). A customer's history is ``(x, t_x, T)``: repeat
purchases, the time of the last one and the time since the first, all measured from the first
purchase in one time unit (:mod:`db.predict.histories`).

:func:`fit` maximises the log-likelihood (the paper's equation 6) with SciPy's L-BFGS-B over
the logarithms of the four parameters, so every step stays positive. Identical histories are
summed with a weight each, which turns a million customers into a few hundred thousand
distinct triples (fewer in coarse units). :func:`p_alive` is the paper's equation 11 and
:func:`expected_purchases` its equation 10, with :func:`scipy.special.hyp2f1`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

Floats = NDArray[np.float64]


class FitFailed(ValueError):
    """The optimiser found no usable maximum (it did not converge, or a parameter ran off to
    an edge where the model means nothing)."""


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted BG/NBD parameters: purchase rates ~ Gamma(r, α) (α in the time unit of the
    histories), dropout probabilities ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


def _arrays(*values: ArrayLike) -> list[Floats]:
    return [np.asarray(value, dtype=np.float64) for value in values]


def log_likelihood(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike,
                   T: ArrayLike) -> Floats:
    """Each customer's log-likelihood of their history under ``params`` (equation 6)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    xs, ts, Ts = _arrays(x, t_x, T)
    common = (gammaln(r + xs) - gammaln(r) + r * np.log(alpha)
              + gammaln(a + b) + gammaln(b + xs) - gammaln(b) - gammaln(a + b + xs))
    stayed = -(r + xs) * np.log(alpha + Ts)
    repeated = xs > 0
    dropped = np.full_like(xs, -np.inf)
    dropped[repeated] = (np.log(a) - np.log(b + xs[repeated] - 1)
                         - (r + xs[repeated]) * np.log(alpha + ts[repeated]))
    return np.asarray(common + np.logaddexp(stayed, dropped), dtype=np.float64)


def aggregate(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[Floats, Floats, Floats,
                                                                     Floats]:
    """The distinct ``(x, t_x, T)`` triples and how many customers share each."""
    stacked = np.column_stack(_arrays(x, t_x, T))
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return unique[:, 0], unique[:, 1], unique[:, 2], counts.astype(np.float64)


def fit(x: ArrayLike, t_x: ArrayLike, T: ArrayLike, *,
        weights: ArrayLike | None = None) -> BgNbdParams:
    """The maximum-likelihood parameters for these histories (``weights``: customers per
    history; without them each row is aggregated first). Raises :class:`FitFailed`."""
    if weights is None:
        xs, ts, Ts, ws = aggregate(x, t_x, T)
    else:
        xs, ts, Ts, ws = _arrays(x, t_x, T, weights)
    total = float(ws.sum())
    if total <= 0:
        raise FitFailed("there are no customers to fit")
    if not np.any((xs > 0) & (ws > 0)):
        raise FitFailed("no customer has bought more than once, so nothing tells how often "
                        "customers buy again or stop")

    # The log-gammas depend on x alone and the logs on T or t_x alone, each with far fewer
    # distinct values than there are histories: computed once per value, then indexed.
    x_values, x_index = np.unique(xs, return_inverse=True)
    T_values, T_index = np.unique(Ts, return_inverse=True)
    t_values, t_index = np.unique(ts, return_inverse=True)
    repeated = xs > 0
    x_rep = xs[repeated]
    t_rep = t_index[repeated]

    def objective(log_params: Floats) -> float:
        r, alpha, a, b = np.exp(log_params)
        common = (gammaln(r + x_values) - gammaln(r) + r * np.log(alpha) + gammaln(a + b)
                  + gammaln(b + x_values) - gammaln(b) - gammaln(a + b + x_values))[x_index]
        stayed = -(r + xs) * np.log(alpha + T_values)[T_index]
        dropped = np.full_like(xs, -np.inf)
        dropped[repeated] = (np.log(a) - np.log(b + x_rep - 1)
                             - (r + x_rep) * np.log(alpha + t_values)[t_rep])
        value = -float(ws @ (common + np.logaddexp(stayed, dropped))) / total
        return value if np.isfinite(value) else 1e12

    mean_x = float(ws @ xs) / total
    start = np.log([1.0, max(float(ws @ Ts) / total, 1e-3) / max(mean_x + 1.0, 1.0), 1.0, 1.0])
    result = minimize(objective, start, method="L-BFGS-B",
                      bounds=[(-12.0, 12.0)] * 4)
    r, alpha, a, b = (float(value) for value in np.exp(result.x))
    if not np.isfinite(result.fun) or result.fun >= 1e11:
        raise FitFailed(f"the optimiser found no finite likelihood ({result.message})")
    if np.any(np.abs(result.x) >= 11.9):
        raise FitFailed("a parameter ran to the edge of its range; the histories do not "
                        "identify the model (too few repeat purchases?)")
    if not result.success:
        raise FitFailed(f"the optimiser did not converge: {result.message}")
    return BgNbdParams(r=r, alpha=alpha, a=a, b=b)


def p_alive(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Floats:
    """The probability that each customer is still active at ``T`` (equation 11). A customer
    without a repeat purchase is 1 by the model's assumption: dropout follows a purchase."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    xs, ts, Ts = _arrays(x, t_x, T)
    ratio = np.zeros_like(xs)
    repeated = xs > 0
    ratio[repeated] = (a / (b + xs[repeated] - 1)) * np.exp(
        (r + xs[repeated]) * (np.log(alpha + Ts[repeated]) - np.log(alpha + ts[repeated])))
    return np.asarray(1.0 / (1.0 + ratio), dtype=np.float64)


def expected_purchases(params: BgNbdParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike,
                       T: ArrayLike) -> Floats:
    """Each customer's expected purchases in the next ``t`` time units (equation 10)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    ts_ahead, xs, ts, Ts = _arrays(t, x, t_x, T)
    z = ts_ahead / (alpha + Ts + ts_ahead)
    tail = np.exp((r + xs) * (np.log(alpha + Ts) - np.log(alpha + Ts + ts_ahead)))
    scale = (a + b + xs - 1) / (a - 1)
    numerator = scale * (1 - tail * hyp2f1(r + xs, b + xs, a + b + xs - 1, z))
    repeated = xs > 0
    odds = np.zeros(np.broadcast(xs, ts, Ts).shape)
    odds_x = np.broadcast_to(xs, odds.shape)
    odds_t = np.broadcast_to(ts, odds.shape)
    odds_T = np.broadcast_to(Ts, odds.shape)
    mask = np.broadcast_to(repeated, odds.shape)
    odds[mask] = (a / (b + odds_x[mask] - 1)) * np.exp(
        (r + odds_x[mask]) * (np.log(alpha + odds_T[mask]) - np.log(alpha + odds_t[mask])))
    return np.asarray(numerator / (1 + odds), dtype=np.float64)


def expected_purchases_new(params: BgNbdParams, t: ArrayLike) -> Floats:
    """Expected purchases of one new customer in their first ``t`` time units (equation 9)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    (ts,) = _arrays(t)
    return np.asarray((a + b - 1) / (a - 1) * (
        1 - (alpha / (alpha + ts)) ** r * hyp2f1(r, b, a + b - 1, ts / (alpha + ts))),
        dtype=np.float64)
