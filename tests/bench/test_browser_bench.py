"""The browser benchmark's pure helpers: which engine a URL names, where its side files go,
and how its per-engine sections sit in RESULTS.md (no browser here)."""

from __future__ import annotations

from pathlib import Path

from bench.__main__ import merge_sections, section_key
from bench.browser import engine_name, side_file
from bench.harness import CACHE_DIR

POSTGRES = "postgresql+psycopg://postgres:secret@127.0.0.1:5499/custdb_bench"


def test_engine_name_spells_the_engine_as_the_headings_do() -> None:
    assert engine_name("sqlite:///data/bench/browser-1000000.sqlite") == "SQLite"
    assert engine_name(POSTGRES) == "PostgreSQL"


def test_side_files_sit_beside_a_sqlite_file_and_under_the_cache_for_a_server(
        tmp_path: Path) -> None:
    database = tmp_path / "browser.sqlite"
    assert side_file(f"sqlite:///{database}", ".audit-key") == (
        tmp_path / "browser.sqlite.audit-key")
    key = side_file(POSTGRES, ".audit-key")
    assert key == CACHE_DIR / "postgresql-127.0.0.1-5499-custdb_bench.audit-key"
    assert "secret" not in str(key)


def test_the_postgresql_browser_section_does_not_replace_the_sqlite_one() -> None:
    sqlite = "## Browser: click → settled over 1,000,000 customers (SQLite)"
    postgres = "## Browser: click → settled over 1,000,000 customers (PostgreSQL)"
    assert section_key(sqlite) != section_key(postgres)
    assert section_key(sqlite) == section_key(
        "## Browser: click → settled over 10,000 customers (SQLite)")
    assert section_key("## Imports (SQLite, PostgreSQL)") == "## Imports"


def test_a_new_engine_section_goes_right_after_its_sqlite_one() -> None:
    kept = {"## A": ["## A (SQLite)", "old a"], "## Browser": ["## Browser (SQLite)", "s"],
            "## Z": ["## Z", "z"]}
    fresh = {"## Browser (PostgreSQL)": ["## Browser (PostgreSQL)", "p"],
             "## A": ["## A (SQLite)", "new a"], "## New": ["## New", "n"]}
    merged = merge_sections(kept, fresh)
    assert list(merged) == ["## A", "## Browser", "## Browser (PostgreSQL)", "## Z", "## New"]
    assert merged["## A"] == ["## A (SQLite)", "new a"]
    assert merged["## Browser"] == ["## Browser (SQLite)", "s"]
    # Measured again, the PostgreSQL section is replaced where it stands.
    again = merge_sections(merged, {"## Browser (PostgreSQL)": ["## Browser (PostgreSQL)", "q"]})
    assert list(again) == list(merged)
    assert again["## Browser (PostgreSQL)"][1] == "q"


def test_a_steps_figures_keep_settled_and_drawn_apart_and_a_timeout_shows() -> None:
    from bench.browser import Settled, _figures

    figures = _figures([Settled(1.5, 2.2), Settled(0.5, 1.1), Settled(0.7, 1.6),
                        Settled(0.6, 1.0)])
    assert figures["cold_s"] == 1.5 and figures["drawn_cold_s"] == 2.2
    assert figures["warm_s"] == 0.6 and figures["drawn_warm_s"] == 1.1
    assert figures["drawn_warm_runs"] == [1.1, 1.6, 1.0]
    timed_out = _figures([Settled(1.0, None), Settled(0.5, None)])
    assert timed_out["drawn_cold_s"] is None and timed_out["drawn_warm_s"] is None
    assert timed_out["warm_s"] == 0.5
