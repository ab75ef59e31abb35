"""``python -m db.predict fit [--unit weeks] [--as-of YYYY-MM-DD] [--no-holdout]``: refit.

Fits the purchase and spend models to the live customers of ``DATABASE_URL`` as the operator
(an admin; audited as ``predict.fit``), stores every customer's scores in place of the
previous fit's and prints the fit's summary. Exit status: 0 stored; 1 not stored (too little
data, the fit failed, database busy, audit key missing: the reason on stderr, earlier scores
stay); 2 the command line was wrong.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from sqlalchemy.exc import SQLAlchemyError

from db.audit.keys import AuditKeyError
from db.core.access import operator
from db.core.engine import DatabaseBusy
from db.predict.histories import DEFAULT_UNIT, TIME_UNITS
from db.predict.service import FitInfo, NotEnoughData, fit_and_store

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def summary(fit: FitInfo) -> str:
    """The fit as a few plain lines."""
    b, g = fit.bgnbd, fit.gamma_gamma
    lines = [
        f"Fit {fit.id} by {fit.fitted_by}, histories to {fit.as_of}, in {fit.unit}, "
        f"{fit.seconds:.1f} s",
        f"Customers scored: {fit.customers_scored:,}; buyers {fit.buyers:,}, repeat buyers "
        f"{fit.repeat_buyers:,}",
        f"BG/NBD: r={b.r:.4f} alpha={b.alpha:.4f} a={b.a:.4f} b={b.b:.4f}",
        f"Gamma-Gamma: p={g.p:.4f} q={g.q:.4f} gamma={g.v:.4f}; monthly discount "
        f"{fit.monthly_discount:g}"]
    check = fit.holdout
    if check is None:
        lines.append(f"Holdout check: {fit.holdout_problem}")
    else:
        lines.append(f"Holdout check ({check.calibration_end} to {check.holdout_end}, "
                     f"{check.customers:,} customers): predicted {check.predicted_total:,.1f} "
                     f"repeat purchases, actual {check.actual_total:,}; total error "
                     f"{check.total_error_pct:+.1f}%, mean absolute error per customer "
                     f"{check.mae:.3f}")
        lines.extend(f"  {group.label:>3} repeat purchases: {group.customers:>8,} customers, "
                     f"predicted {group.predicted:>10,.1f}, actual {group.actual:>8,}"
                     for group in check.groups)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db.predict",
                                     description="Predictive model commands.")
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser("fit", help="refit the models and store every customer's scores")
    fit.add_argument("--unit", choices=tuple(TIME_UNITS), default=DEFAULT_UNIT,
                     help=f"time unit of the histories (default {DEFAULT_UNIT})")
    fit.add_argument("--as-of", type=date.fromisoformat, default=None,
                     help="last day of the histories (default: today, or the newest "
                          "order's day on old data)")
    fit.add_argument("--no-holdout", action="store_true",
                     help="skip the holdout check (it reads the orders a second time)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return EXIT_OK if stop.code == 0 else EXIT_USAGE
    try:
        stored = fit_and_store(operator(), unit=args.unit, as_of=args.as_of,
                               holdout=not args.no_holdout)
    except (NotEnoughData, AuditKeyError, DatabaseBusy, SQLAlchemyError) as error:
        print(f"fit: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(summary(stored))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
