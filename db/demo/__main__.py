"""``python -m db.demo --customers N --seed S``: realistic demo data into an empty database.

Upgrades ``DATABASE_URL`` to the newest schema first; exits with 1 (and says what to do) when
its schema is of migrations squashed away, with 2 (and says why) when the database already
holds customers.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from db.core.engine import get_engine
from db.demo.loader import DemoDataError, load_demo_data
from db.migrate import UnknownRevisionError, upgrade


def main(argv: list[str] | None = None) -> int:
    """Load the demo data the arguments ask for; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m db.demo",
                                     description="Load realistic demo data into custdb.")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--orders-per-customer", type=float, default=10.0)
    parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                        help="the day the data ends (default: today, UTC)")
    args = parser.parse_args(argv)
    try:
        upgrade()
    except UnknownRevisionError as error:  # a database of the migrations squashed away
        print(error, file=sys.stderr)
        return 1
    try:
        counts = load_demo_data(get_engine(), customers=args.customers, seed=args.seed,
                                as_of=args.as_of, orders_per_customer=args.orders_per_customer,
                                progress=lambda line: print(line, file=sys.stderr))
    except DemoDataError as error:
        print(f"demo: {error}", file=sys.stderr)
        return 2
    print(f"Loaded {counts.customers:,} customers, {counts.orders:,} orders, "
          f"{counts.interactions:,} interactions, {counts.feedback:,} feedback answers, "
          f"{counts.consent_events:,} consent events, {counts.payment_methods:,} payment methods "
          f"in {counts.seconds:.1f} s ({counts.rows / counts.seconds:,.0f} rows/s).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
