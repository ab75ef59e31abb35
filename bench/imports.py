"""Scenario: importing files through :mod:`db.imports`, beside loaders that do not validate.

``python -m bench.imports make --kind customers|orders --rows N --path FILE`` writes a
deterministic file as a shop would export it (German headers, semicolons, comma decimals,
``dd.mm.yyyy`` dates). ``python -m bench.imports run --kind K --file FILE --url URL``
commits it into a new database at URL (the derived tables and audit events included).
``python -m bench.imports baseline --file FILE`` loads the same file with ``pandas.read_csv``
+ ``to_sql`` into a new SQLite file, and with DuckDB's ``read_csv`` into a table: no
validation, no matching, no derived tables, the floor an importer is compared with.
Each prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

from db.core.access import operator
from db.core.engine import make_engine
from db.imports import engine as imports
from db.imports.mapping import suggest
from db.imports.reading import open_table
from db.imports.rows import Options
from db.migrate import upgrade

_CITIES = ("Berlin", "Köln", "München", "Düsseldorf", "Wien", "Graz", "Zürich", "Basel")
_COUNTRIES = ("DE", "DE", "DE", "DE", "AT", "AT", "CH", "CH")
_PREFIXES = {"DE": "030", "AT": "01", "CH": "044"}


_CONSENT_CELLS = ("ja", "nein", "", "1", "0", "")


def make(kind: str, rows: int, path: Path, consent: bool = False) -> dict:
    """A file of ``rows`` rows; orders go to ``rows // 10`` customers, numbered K-0...
    ``consent`` adds the four consent columns to a customer file (yes, no or empty)."""
    draw = random.Random(7)
    with path.open("w", encoding="utf-8") as out:
        if kind == "customers":
            out.write("Kundennummer;Vorname;Nachname;E-Mail;Telefon;Straße;PLZ;Ort;Land;"
                      "Geburtsdatum" + (";consent_email_marketing;consent_sms;"
                                        "consent_profiling;consent_third_party_sharing"
                                        if consent else "") + "\n")
            for number in range(rows):
                place = draw.randrange(len(_CITIES))
                country = _COUNTRIES[place]
                out.write(f"K-{number};Vorname{number};Nachname{number};"
                          f"kunde{number}@example.org;{_PREFIXES[country]} "
                          f"{draw.randrange(2_000_000, 9_999_999)};Hauptstraße {number % 200};"
                          f"{draw.randrange(1000, 99999):05d};{_CITIES[place]};{country};"
                          f"{draw.randrange(1, 29):02d}.{draw.randrange(1, 13):02d}."
                          f"{draw.randrange(1940, 2005)}"
                          + ("".join(";" + _CONSENT_CELLS[(number + shift) % 6]
                                     for shift in range(4)) if consent else "") + "\n")
        else:
            out.write("Bestellnummer;Kundennummer;Bestelldatum;Betrag;Währung;Warengruppe;"
                      "Kanal;Artikel;Menge;Land\n")
            for number in range(rows):
                customer = draw.randrange(max(1, rows // 10))
                amount = draw.randrange(-2_000, 50_000) / 100 or 1.0
                written = f"{amount:.2f}".replace(".", ",")
                out.write(f"B-{number};K-{customer};{draw.randrange(1, 29):02d}."
                          f"{draw.randrange(1, 13):02d}.{draw.randrange(2015, 2026)};"
                          f"{written};EUR;{draw.choice(('books', 'wine', 'travel'))};"
                          f"{draw.choice(('web', 'store', 'app'))};Artikel {number % 997};"
                          f"{1 + number % 3};{_COUNTRIES[customer % len(_COUNTRIES)]}\n")
    return {"rows": rows, "bytes": path.stat().st_size}


def run(kind: str, file: Path, url: str) -> dict:
    upgrade(url)
    engine = make_engine(url)
    table = open_table(file, name=file.name)
    request = imports.Request(kind, file, table, suggest(kind, table.columns),
                              Options(create_customers=True, day_first=True,
                                      notice_version="2026-02"))
    started = time.perf_counter()
    outcome = imports.commit(operator(), request, engine=engine)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"seconds": seconds, "rows": outcome.rows, **outcome.counts()}


def baseline(file: Path) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        frame = pd.read_csv(file, sep=";", dtype=str, keep_default_na=False)
        with sqlite3.connect(Path(folder) / "pandas.sqlite") as connection:
            frame.to_sql("rows", connection, index=False, chunksize=50_000)
        pandas_seconds = time.perf_counter() - started
        del frame
        started = time.perf_counter()
        database = duckdb.connect(str(Path(folder) / "duck.db"))
        database.execute("CREATE TABLE rows AS SELECT * FROM read_csv(?, delim=';', "
                         "header=true, all_varchar=true)", [str(file)])
        database.close()
        duckdb_seconds = time.perf_counter() - started
    return {"pandas_seconds": pandas_seconds, "duckdb_seconds": duckdb_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("make")
    made.add_argument("--kind", choices=("customers", "orders"), required=True)
    made.add_argument("--rows", type=int, required=True)
    made.add_argument("--path", type=Path, required=True)
    made.add_argument("--consent", action="store_true", help="customers: consent columns")
    ran = commands.add_parser("run")
    ran.add_argument("--kind", choices=("customers", "orders"), required=True)
    ran.add_argument("--file", type=Path, required=True)
    ran.add_argument("--url", required=True)
    floor = commands.add_parser("baseline")
    floor.add_argument("--file", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "make":
        report = make(args.kind, args.rows, args.path, args.consent)
    elif args.command == "run":
        report = run(args.kind, args.file, args.url)
    else:
        report = baseline(args.file)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
