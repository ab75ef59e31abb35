"""``python -m db.derived``: one command checks and rebuilds the summary, the KPI tables and
the search index."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import Engine, delete, func, select, update

from db.demo.loader import load_demo_data
from db.derived import search_index
from db.derived.__main__ import main
from db.derived.models import CustomerSummary, DailySales
from db.models import Customer

SUMMARY_LINE = re.compile(r"^([\d,]+) summary rows differ", re.MULTILINE)
INDEX_LINE = re.compile(r"^([\d,]+) customers' lookup text differs", re.MULTILINE)
KPI_COUNTS = re.compile(r"(\w+): ([\d,]+) rows differ")


def _stale(out: str) -> tuple[int, dict[str, int]]:
    """The summary's and each KPI table's count of stale rows, as ``check`` printed them;
    the search index's count is under ``"customer_search"``."""
    summary, index = SUMMARY_LINE.search(out), INDEX_LINE.search(out)
    assert summary is not None and index is not None, out
    tables = {name: int(count.replace(",", "")) for name, count in KPI_COUNTS.findall(out)}
    assert "daily_sales" in tables and "monthly_customers" in tables, out
    tables["customer_search"] = int(index[1].replace(",", ""))
    return int(summary[1].replace(",", "")), tables


def test_check_finds_and_rebuild_repairs_the_summary_kpi_tables_and_search_index(
        engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    load_demo_data(engine, customers=60, seed=5, as_of=date(2026, 6, 1))
    assert main(["check"]) == 0
    summary, tables = _stale(capsys.readouterr().out)
    assert summary == 0 and not any(tables.values())

    with engine.begin() as connection:
        rows = connection.execute(select(func.count()).select_from(CustomerSummary)).scalar_one()
        first = connection.execute(select(func.min(CustomerSummary.customer_id))).scalar_one()
        connection.execute(delete(CustomerSummary).where(CustomerSummary.customer_id == first))
        day = connection.execute(select(func.min(DailySales.day))).scalar_one()
        cells = connection.execute(delete(DailySales).where(DailySales.day == day)).rowcount
        search = search_index.bulk_table(engine.dialect.name)
        lowest, highest = connection.execute(
            select(func.min(search.c[0]), func.max(search.c[0]))).one()
        connection.execute(search.delete().where(search.c[0] == lowest))  # gone from lookup
        connection.execute(update(Customer).where(Customer.id == highest)
                           .values(city="Nowhere"))  # edited behind the services' back
    assert main(["check"]) == 1
    summary, tables = _stale(capsys.readouterr().out)
    assert summary == 1
    assert tables["daily_sales"] == cells > 0  # customer_recency differs too: it reads the summary
    assert tables["customer_search"] == 2

    assert main(["rebuild"]) == 0
    out = capsys.readouterr().out
    assert f"Rebuilt {rows:,} summary rows" in out
    assert "daily_sales: " in out and "monthly_customers: " in out
    assert "Indexed " in out
    assert main(["check"]) == 0
    summary, tables = _stale(capsys.readouterr().out)
    assert summary == 0 and not any(tables.values())
