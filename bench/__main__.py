"""``make bench``: run the benchmark scenarios and write ``bench/RESULTS.md``.

Databases built here are kept under ``data/bench/`` (git-ignored) for the scenarios of later
features to read; ``--rebuild`` builds them again.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.harness import CACHE_DIR, ROOT, Measurement, machine_description, run_child

RESULTS = ROOT / "bench" / "RESULTS.md"
TARGET_SECONDS = {100_000: 60.0, 1_000_000: 300.0}


def demo_generation(sizes: list[int], repeat: int, rebuild: bool) -> list[str]:
    """Time the demo loader per size; compare bulk and ORM inserts of the same rows."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    lines = ["## Demo data generation (SQLite)", "",
             "Build = `db.demo` into a new file, indexes included; each run in a fresh process.",
             "", "| customers | rows | runs | median s | p95 s | rows/s | peak MiB | target |",
             "|---:|---:|---:|---:|---:|---:|---:|---|"]
    for size in sizes:
        cached = CACHE_DIR / f"customers-{size}.sqlite"
        runs = repeat if size <= 100_000 else 1
        measurement = Measurement(f"demo {size}")
        for run in range(runs):
            path = CACHE_DIR / f"customers-{size}.run{run}.sqlite"
            for stale in path.parent.glob(path.name + "*"):
                stale.unlink()
            report, peak = run_child("bench.demo_generation",
                                     ["build", "--customers", str(size), "--path", str(path)])
            measurement.seconds.append(report["seconds"])
            measurement.peak_mib.append(peak)
            measurement.reports.append(report)
            if run == 0 and (rebuild or not cached.exists()):
                _replace(path, cached)
            else:
                for leftover in path.parent.glob(path.name + "*"):
                    leftover.unlink()
        rows = measurement.reports[0]["rows"]
        target = TARGET_SECONDS.get(size)
        verdict = "—" if target is None else (
            f"< {target:.0f} s: {'met' if measurement.p95 < target else 'MISSED'}")
        lines.append(f"| {size:,} | {rows:,} | {runs} | {measurement.median:.1f} | "
                     f"{measurement.p95:.1f} | {rows / measurement.median:,.0f} | "
                     f"{max(measurement.peak_mib):,.0f} | {verdict} |")
        print(lines[-1], flush=True)

    baseline_db = CACHE_DIR / f"customers-{min(sizes)}.sqlite"
    compare, _ = run_child("bench.demo_generation",
                           ["compare", "--path", str(baseline_db), "--rows", "50000"])
    lines += ["", f"Baseline, same {compare['rows']:,} order rows re-inserted into the "
              f"{min(sizes):,}-customer database (rolled back): ORM one object per row "
              f"{compare['orm_rows_per_s']:,.0f} rows/s; pandas `to_sql` "
              f"{compare['pandas_rows_per_s']:,.0f} rows/s; `db.bulk.insert_rows` "
              f"{compare['bulk_rows_per_s']:,.0f} rows/s "
              f"({compare['bulk_rows_per_s'] / compare['orm_rows_per_s']:.1f}× the ORM, "
              f"{compare['bulk_rows_per_s'] / compare['pandas_rows_per_s']:.1f}× pandas)."]
    print(lines[-1], flush=True)
    return lines


def _replace(source: Path, target: Path) -> None:
    for stale in target.parent.glob(target.name + "*"):
        stale.unlink()
    source.rename(target)
    for suffix in ("-wal", "-shm"):
        side = Path(str(source) + suffix)
        if side.exists():
            side.rename(Path(str(target) + suffix))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size up to 100,000")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    lines = ["# Benchmark results", "", f"Machine: {machine_description()}", ""]
    lines += demo_generation(sorted(args.sizes), args.repeat, args.rebuild)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"Wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
