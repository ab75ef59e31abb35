"""``python -m db.backup``: prints the file it wrote; exit codes 0, 1, 2 and 3 as documented."""

from __future__ import annotations

import getpass
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from db.backup.__main__ import EXIT_FAILED, EXIT_OK, EXIT_POSTGRESQL, EXIT_USAGE, main
from tests.pages.conftest import ROOT


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data" / "custdb.sqlite"
    path.parent.mkdir()
    shutil.copy(sqlite_template, path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    return path


def test_writes_the_backup_and_prints_its_path(sqlite_url: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_OK
    printed = Path(capsys.readouterr().out.strip())
    assert printed.parent == sqlite_url.parent / "backups"
    with sqlite3.connect(printed) as connection:
        assert connection.execute("SELECT action, source FROM audit_event").fetchall() == []
    connection.close()
    with sqlite3.connect(sqlite_url) as connection:
        assert connection.execute(
            "SELECT action, source, actor FROM audit_event").fetchall() == [
            ("database.backup", "cli", f"cli:{getpass.getuser()}")]
    connection.close()


def test_folder_option(sqlite_url: Path, tmp_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--folder", str(tmp_path / "bk")]) == EXIT_OK
    assert Path(capsys.readouterr().out.strip()).parent == tmp_path / "bk"


def test_unwritable_folder_exits_1(sqlite_url: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("")
    assert main(["--folder", str(tmp_path / "file" / "bk")]) == EXIT_FAILED
    assert "Cannot write a backup into" in capsys.readouterr().err


def test_postgresql_exits_3_with_the_pg_dump_command(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://crm:pw@127.0.0.1:1/crm")
    assert main([]) == EXIT_POSTGRESQL
    err = capsys.readouterr().err
    assert "pg_dump --format=custom" in err and "postgresql://crm@127.0.0.1:1/crm" in err
    assert ":pw@" not in err


def test_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--nonsense"])
    assert exited.value.code == EXIT_USAGE


def test_runs_as_a_module(sqlite_url: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "db.backup", "--folder", str(tmp_path / "m")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).exists()
