"""Timing helpers shared by every benchmark scenario.

Each measured run happens in a fresh child process, so its peak memory (max RSS, read with
``os.wait4``) belongs to that run alone and no warm cache leaks from one run to the next.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / "data" / "bench"


@dataclass
class Measurement:
    """Repeated runs of one scenario: seconds per run, peak memory, and what each reported."""

    name: str
    seconds: list[float] = field(default_factory=list)
    peak_mib: list[float] = field(default_factory=list)
    reports: list[dict] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p95(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run_child(module: str, args: list[str], env: dict[str, str] | None = None) -> tuple[dict,
                                                                                          float]:
    """Run ``python -m module args`` and return (the JSON it printed last, peak RSS in MiB)."""
    process = subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT,
                               env=os.environ | (env or {}), stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed")
    last_line = output.strip().splitlines()[-1]
    return json.loads(last_line), usage.ru_maxrss / 1024


def machine_description() -> str:
    memory = "?"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    return (f"{platform.machine()}, {os.cpu_count()} cores, {memory} RAM, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
