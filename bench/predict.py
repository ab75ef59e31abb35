"""Scenario: fitting the prediction models over a demo database (:mod:`db.predict`).

``python -m bench.predict phases --path DB`` times the parts of a fit one by one (read the
histories in SQL, fit BG/NBD, fit Gamma-Gamma, score) without writing; ``fit --path DB
[--no-holdout]`` times :func:`db.predict.service.fit_and_store` as the command runs it (read,
fit, score, holdout check, store every customer's scores, audit) on a copy it may write;
``synthetic --customers N`` times the SciPy fit alone on N histories drawn from BG/NBD
(r 0.25, α 4.4, a 0.8, b 2.4, ages uniform over a year, in weeks), the data set the library
evaluation gave PyMC-Marketing too. Each prints one JSON line; the harness reads peak memory.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from db.core.access import operator
from db.core.engine import make_engine
from db.predict import bgnbd, gamma_gamma, service
from db.predict.histories import default_as_of, read_histories
from db.predict.service import fit_and_store, score


def _timed(started: float) -> float:
    return round(time.perf_counter() - started, 2)


def phases(path: Path, unit: str) -> dict:
    engine = make_engine(f"sqlite:///{path}")
    report: dict = {}
    started = time.perf_counter()
    as_of = default_as_of(engine)
    histories = read_histories(engine, as_of=as_of, unit=unit)
    report["read_s"] = _timed(started)
    report["customers"] = len(histories)
    report["buyers"] = int(histories.buyers.sum())
    buyers = histories.subset(histories.buyers)
    report["distinct_histories"] = int(bgnbd.aggregate(buyers.x, buyers.t_x, buyers.T)[0].size)
    started = time.perf_counter()
    params = bgnbd.fit(buyers.x, buyers.t_x, buyers.T)
    report["bgnbd_fit_s"] = _timed(started)
    started = time.perf_counter()
    spend = gamma_gamma.fit(buyers.x, buyers.m)
    report["gamma_gamma_fit_s"] = _timed(started)
    started = time.perf_counter()
    score(histories, params, spend, monthly_discount=0.01)
    report["score_s"] = _timed(started)
    report["bgnbd"] = params.as_dict()
    report["gamma_gamma"] = spend.as_dict()
    engine.dispose()
    return report


def _clocked(spent: dict[str, float], name: str, function: Any) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] = round(spent.get(name, 0.0) + time.perf_counter() - started, 2)
    return timed


def fit(path: Path, unit: str, holdout: bool) -> dict:
    engine = make_engine(f"sqlite:///{path}")
    spent: dict[str, float] = {}
    for name in ("read_orders", "histories_at", "_fit_models", "score", "check_read",
                 "insert_rows"):  # each part of the fit, timed where the service calls it
        setattr(service, name, _clocked(spent, name, getattr(service, name)))
    started, cpu = time.perf_counter(), time.process_time()
    stored = fit_and_store(operator(), unit=unit, holdout=holdout, engine=engine)
    report = {"seconds": _timed(started), "cpu_s": round(time.process_time() - cpu, 2),
              "customers": stored.customers_scored,
              "buyers": stored.buyers, "repeat_buyers": stored.repeat_buyers,
              "bgnbd": stored.bgnbd.as_dict(), "gamma_gamma": stored.gamma_gamma.as_dict(),
              "parts_s": spent}
    if stored.holdout is not None:
        report["holdout"] = {"predicted": stored.holdout.predicted_total,
                             "actual": stored.holdout.actual_total,
                             "error_pct": stored.holdout.total_error_pct,
                             "mae": stored.holdout.mae}
    engine.dispose()
    return report


def simulate(count: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BG/NBD histories of ``count`` customers (weeks; recency and age to 2 decimals)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.25, 1 / 4.4, count)
    dropout = rng.beta(0.8, 2.4, count)
    age = rng.uniform(1, 52, count)
    x, t_x = np.zeros(count), np.zeros(count)
    for i in range(count):
        at = 0.0
        while rate[i] > 0:
            at += rng.exponential(1 / rate[i])
            if at > age[i]:
                break
            x[i] += 1
            t_x[i] = at
            if rng.random() < dropout[i]:
                break
    return x, np.round(t_x, 2), np.round(age, 2)


def synthetic(count: int) -> dict:
    x, t_x, T = simulate(count)
    started = time.perf_counter()
    params = bgnbd.fit(x, t_x, T)
    return {"customers": count, "seconds": _timed(started), "bgnbd": params.as_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("phases", "fit"):
        command = commands.add_parser(name)
        command.add_argument("--path", type=Path, required=True)
        command.add_argument("--unit", default="weeks")
        command.add_argument("--no-holdout", action="store_true")
    commands.add_parser("synthetic").add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    if args.command == "phases":
        report = phases(args.path, args.unit)
    elif args.command == "fit":
        report = fit(args.path, args.unit, not args.no_holdout)
    else:
        report = synthetic(args.customers)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
