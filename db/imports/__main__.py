"""``python -m db.imports FILE --kind customers|orders|interactions [--mapping M] [--dry-run]``

The wizard's engine for scripts and cron. Without ``--mapping`` the columns are placed by
their header names (:func:`db.imports.mapping.suggest`); when that leaves a required field
unplaced, nothing is imported and the command says which fields and which columns the file
has. ``--mapping`` names a mapping saved on the import page, or a JSON file
``{"field": "column", ...}``; its saved options (date order, defaults) apply unless a flag
says otherwise. ``--dry-run`` checks
every row and writes nothing. Exit status: 0 done (rejected rows are listed, and written in
full with ``--rejects FILE``), 2 the file or the mapping cannot be imported as given.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from db.core.access import operator
from db.core.engine import DatabaseBusy
from db.imports import engine
from db.imports.mapping import KINDS, missing_required, suggest
from db.imports.reading import UnreadableFile, open_table
from db.imports.rows import MODES, Options
from db.imports.saved import MappingError, resolve_mapping

SHOWN_REJECTS = 20


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m db.imports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("--mapping", help="a saved mapping's name, or a JSON file")
    parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    parser.add_argument("--mode", choices=MODES, help="default: create_and_update")
    dates = parser.add_mutually_exclusive_group()
    dates.add_argument("--day-first", dest="day_first", action="store_const", const=True,
                       help="03/05/2024 is 3 May")
    dates.add_argument("--month-first", dest="day_first", action="store_const", const=False,
                       help="03/05/2024 is 5 March")
    parser.add_argument("--no-header", action="store_true", help="the first row is data")
    parser.add_argument("--currency",
                        help="for orders without one (default: the house currency setting)")
    parser.add_argument("--channel", help="for orders without one (default web)")
    parser.add_argument("--category", help="for orders without one (default uncategorised)")
    parser.add_argument("--create-customers", action="store_const", const=True,
                        help="orders: create customers for unknown customer numbers")
    parser.add_argument("--country", help="country of new customers when the file has none")
    parser.add_argument("--notice-version",
                        help="customers: the privacy notice the consent columns were given "
                             "under (required when the file has consent columns)")
    parser.add_argument("--rejects", type=Path, help="write the rejected rows to this CSV")
    return parser


def _mapping(name: str | None, kind: str, columns: list[str], country: str | None
             ) -> tuple[dict[str, str | None], Options]:
    if name is not None:
        try:
            return resolve_mapping(operator(), kind, name)
        except MappingError as error:
            raise engine.ImportRefused(str(error)) from None
    mapping = suggest(kind, columns)
    missing = missing_required(kind, {**mapping, "country": mapping.get("country") or country})
    if missing:
        raise engine.ImportRefused(
            "Could not place " + ", ".join(missing) + " among the file's columns ("
            + ", ".join(columns) + "); give --mapping with a saved mapping or a JSON file.")
    return mapping, Options.house()


def _progress(done: int, total: int | None, seconds: float) -> None:
    of = f" of {total:,}" if total else ""
    rate = done / seconds if seconds else 0
    print(f"\r{done:,}{of} rows ({rate:,.0f} rows/s)", end="", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    flags = {"mode": arguments.mode, "day_first": arguments.day_first,
             "currency": arguments.currency, "channel": arguments.channel,
             "category": arguments.category, "create_customers": arguments.create_customers,
             "country": arguments.country, "notice_version": arguments.notice_version}
    try:
        if not arguments.file.is_file():
            raise engine.ImportRefused(f"There is no file {arguments.file}.")
        table = open_table(arguments.file, name=arguments.file.name,
                           has_header=False if arguments.no_header else None)
        mapping, saved = _mapping(arguments.mapping, arguments.kind, table.columns,
                                  arguments.country)
        options = replace(saved, **{name: value for name, value in flags.items()
                                    if value is not None})
        request = engine.Request(arguments.kind, arguments.file, table, mapping, options)
        run = engine.check if arguments.dry_run else engine.commit
        outcome = run(operator(), request, progress=_progress)
    except (engine.ImportRefused, UnreadableFile, DatabaseBusy) as error:
        print(f"Not imported: {error}", file=sys.stderr)
        return 2
    print(file=sys.stderr)
    counts = outcome.counts()
    verb = "Checked (nothing written)" if arguments.dry_run else f"Import {outcome.import_id}"
    print(f"{verb}: " + ", ".join(f"{value:,} {name.replace('_', ' ')}"
                                  for name, value in counts.items())
          + f" in {outcome.seconds:.1f} s")
    for key, lines in list(outcome.duplicates.items())[:SHOWN_REJECTS]:
        print(f"  repeated in the file: {key} (lines {', '.join(map(str, lines))})")
    for reject in outcome.rejects[:SHOWN_REJECTS]:
        print(f"  line {reject.line}: {reject.reason}")
    if outcome.rejected > SHOWN_REJECTS:
        print(f"  ... {outcome.rejected - SHOWN_REJECTS:,} more rejected rows"
              + ("" if arguments.rejects else " (--rejects FILE lists them all)"))
    if arguments.rejects:
        arguments.rejects.write_bytes(outcome.rejects_file(table.columns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
