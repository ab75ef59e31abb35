"""``python -m db.quality duplicates [--min-score X] [--limit N]``: find duplicate customers.

Runs a detection over the live customers of ``DATABASE_URL`` as the operator (stored for the
review page, audited as ``quality.duplicates_run``) and prints the stored pairs scoring at
least ``--min-score`` (default: the default threshold), best first, one a line: score, the two
customer ids, the reasons; a summary line goes to stderr. Exit status: 0 done (whether or not
pairs were found); 1 the detection failed (database busy or unreachable, audit key missing;
the reason is on stderr, the previous run is kept); 2 the command line was wrong.
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import SQLAlchemyError

from db.audit.keys import AuditKeyError
from db.core.access import operator
from db.core.engine import DatabaseBusy
from db.quality.candidates import DEFAULT_LIMIT, DEFAULT_THRESHOLD, candidates, find_duplicates

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _score(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a score is between 0 and 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db.quality",
                                     description="Data quality commands.")
    commands = parser.add_subparsers(dest="command", required=True)
    duplicates = commands.add_parser(
        "duplicates", help="find duplicate customers and print the pairs with their reasons")
    duplicates.add_argument("--min-score", type=_score, default=DEFAULT_THRESHOLD,
                            help=f"print pairs scoring at least this (0..1; default "
                                 f"{DEFAULT_THRESHOLD})")
    duplicates.add_argument("--limit", type=int, default=DEFAULT_LIMIT,
                            help=f"print at most this many pairs (default {DEFAULT_LIMIT})")
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return EXIT_OK if stop.code == 0 else EXIT_USAGE
    actor = operator()
    try:
        run = find_duplicates(actor)
        pairs = candidates(actor, min_score=args.min_score, limit=args.limit)
    except (AuditKeyError, DatabaseBusy, SQLAlchemyError) as error:
        print(f"duplicates: {error}", file=sys.stderr)
        return EXIT_FAILED
    for pair in pairs:
        print(f"{pair.score:.3f}\t{pair.left_id}\t{pair.right_id}\t{'; '.join(pair.reasons)}")
    print(f"{run.customers:,} customers, {run.compared:,} pairs compared in {run.seconds:.1f} s: "
          f"{run.proposed:,} proposed (score >= {DEFAULT_THRESHOLD}), {run.stored:,} kept for "
          f"review; {len(pairs):,} printed.", file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
