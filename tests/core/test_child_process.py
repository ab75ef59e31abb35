"""Work run in a child process: it runs in another process, a child that raises or is killed
is a failure that says how it ended, and the parent's main script is never run again in the
child (under Streamlit it is the app script)."""

from __future__ import annotations

import os
import signal
import sys
import types
from pathlib import Path

import pytest

from db.core.child_process import ChildFailed, run_in_child


def write_pid(path: str) -> None:
    Path(path).write_text(str(os.getpid()))


def fail(message: str) -> None:
    raise RuntimeError(message)


def kill_itself() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_the_work_runs_in_another_process_without_the_main_script(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "app.py"
    ran = tmp_path / "main script ran"
    source = f"open({str(ran)!r}, 'w').close()\n"  # the "page" marks that it ran
    script.write_text(source)
    main = types.ModuleType("__main__")  # as Streamlit installs a page script
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    pid = tmp_path / "pid"
    run_in_child(write_pid, str(pid), name="test work")
    assert int(pid.read_text()) != os.getpid()
    assert not ran.exists()


def test_a_child_that_raises_or_is_killed_fails() -> None:
    with pytest.raises(ChildFailed, match="test work failed with exit code 1"):
        run_in_child(fail, "disk full", name="test work")
    with pytest.raises(ChildFailed, match="test work was killed by signal 9"):
        run_in_child(kill_itself, name="test work")
