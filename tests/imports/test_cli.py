"""``python -m db.imports``: a dry run writes nothing, a file it cannot place is refused with
the fields and columns named, and a process killed mid-import leaves the database as it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from db.audit import trail
from db.core.engine import read_session
from db.imports.__main__ import main
from db.imports.models import ImportRun
from db.imports.rows import Options
from db.imports.saved import save_mapping
from db.models import AuditEvent, Customer, Order
from tests.factories import ADMIN

ORDERS = ("Order ID;Customer number;Date;Total;Country\n"
          "1001;K-1;2019-03-04;12,50;DE\n"
          "1002;K-2;2019-03-05;-4,00;AT\n")


@pytest.fixture
def here(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


def count(engine: Engine, model: type) -> int:
    with read_session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_a_dry_run_writes_nothing_and_a_commit_is_idempotent(
        here: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="cp1252")
    arguments = [str(path), "--kind", "orders", "--create-customers"]
    assert main([*arguments, "--dry-run"]) == 0
    assert "Checked (nothing written): 2 rows, 2 new" in capsys.readouterr().out
    assert count(engine, Order) == count(engine, Customer) == 0
    assert main(arguments) == 0
    assert "2 new, 0 updated, 0 unchanged, 0 rejected, 2 customers created" in \
        capsys.readouterr().out
    assert main(arguments) == 0
    assert "0 new, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert count(engine, Order) == 2 and count(engine, ImportRun) == 2


def test_columns_it_cannot_place_are_named_and_nothing_is_imported(
        here: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "people.csv"
    path.write_text("Wer,Wo,Seit\nAnna,Berlin,2020-01-01\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    assert main([str(path), "--kind", "customers", "--rejects", str(rejects)]) == 2
    error = capsys.readouterr().err
    assert "Could not place First name, Last name, Country" in error
    assert "(Wer, Wo, Seit)" in error
    assert count(engine, Customer) == 0 and not rejects.exists()


def test_rejected_rows_are_listed_and_written(
        here: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "people.csv"
    path.write_text("first name,last name,email,country\nAnna,Berg,anna@,DE\n"
                    "Ben,Kurz,ben@example.org,DE\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    assert main([str(path), "--kind", "customers", "--rejects", str(rejects)]) == 0
    assert "line 2: E-mail:" in capsys.readouterr().out
    assert rejects.read_text(encoding="utf-8-sig").splitlines()[1].startswith("2,E-mail:")


def test_a_killed_import_leaves_the_database_as_it_was(
        database_url: str, engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("customer number,first name,last name,email,country\n")
        for number in range(100_000):
            out.write(f"N-{number},First{number},Last{number},p{number}@example.org,DE\n")
    before = count(engine, AuditEvent)
    environment = {**os.environ, "DATABASE_URL": database_url}
    process = subprocess.Popen([sys.executable, "-m", "db.imports", str(path), "--kind",
                                "customers"], env=environment, stderr=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, text=True)
    assert process.stderr is not None
    deadline = time.monotonic() + 120
    progress = ""
    while "rows (" not in progress and time.monotonic() < deadline:  # a chunk is written
        progress += process.stderr.read(1)
    assert "rows (" in progress, "the import showed no progress"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert count(engine, Customer) == 0
    assert count(engine, ImportRun) == 0
    assert count(engine, AuditEvent) == before
    assert trail.verify(ADMIN, engine=engine).ok


def test_a_saved_mapping_or_a_json_file_places_the_columns(
        here: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pos.csv"
    path.write_text("A;B;C\nK-7;15.03.2020;9,99\nK-8;16.03.2020;1,50\n", encoding="utf-8")
    columns = {"customer_ref": "A", "ordered_at": "B", "amount": "C"}
    save_mapping(ADMIN, "orders", "Till export", columns,
                 Options(create_customers=True, country="AT", currency="CHF"), engine=engine)
    assert main([str(path), "--kind", "orders", "--mapping", "Till export", "--dry-run"]) == 0
    assert "2 new" in capsys.readouterr().out
    assert main([str(path), "--kind", "orders", "--mapping", "Till export",
                 "--currency", "EUR"]) == 0  # a flag overrides the saved option
    with read_session(engine) as session:
        assert set(session.exec(select(Order.currency))) == {"EUR"}
    mapping_file = tmp_path / "mapping.json"
    mapping_file.write_text(json.dumps(columns), encoding="utf-8")
    assert main([str(path), "--kind", "orders", "--mapping", str(mapping_file)]) == 0
    assert "0 new, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert main([str(path), "--kind", "orders", "--mapping", "Nope"]) == 2
    assert "Nope" in capsys.readouterr().err
