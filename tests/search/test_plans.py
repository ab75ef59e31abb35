"""Lookup statements on SQLite read through the indexes their conditions name.

SQLite has no statistics here (nothing runs ANALYZE), so it chooses an index by the shape
of a statement alone, whatever the table holds: a plan chosen on a small test database is
the plan at a million customers. A statement that reads ``customer`` through the index of
``merged_into_id`` (NULL for nearly everyone) or by a full scan walks every customer: a
two-letter search that matched no surname took 0.3 s at a million.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, event

from db.customers.service import create_customer
from db.search.ranking import SearchFilters, search_customers
from tests.factories import MANAGER


@pytest.fixture
def sqlite_engine(engine: Engine) -> Engine:
    if engine.dialect.name != "sqlite":
        pytest.skip("the plans of SQLite, which has no statistics to choose by")
    for first, last, email in [("Anna", "Zabel", "anna@example.de"),
                               ("Jonas", "Berg", "jonas@example.se")]:
        create_customer(MANAGER, {"first_name": first, "last_name": last, "email": email,
                                  "country": "DE"}, engine=engine)
    return engine


def _plans(engine: Engine, term: str, filters: SearchFilters) -> list[tuple[str, str]]:
    """Each statement a search for ``term`` ran, with SQLite's plan for it."""
    statements: list[tuple[str, Any]] = []  # the statement and its parameters, as sent

    def seen(_conn: object, _cursor: object, statement: str, parameters: Any,
             _context: object, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        search_customers(MANAGER, term, filters, engine=engine)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    with engine.connect() as connection:
        return [(statement, " | ".join(row[-1] for row in connection.exec_driver_sql(
                     "EXPLAIN QUERY PLAN " + statement, parameters).all()))
                for statement, parameters in statements]


# (Not the empty search: it lists the newest customers passing the filters, by id.)
@pytest.mark.parametrize("term", ["zz", "za", "q", "zab", "anna", "anna zabel", "zbael",
                                  "anna@example.de", "+49 30 901820", "42"])
@pytest.mark.parametrize("filters", [SearchFilters(), SearchFilters(country="DE"),
                                     SearchFilters(status="active"), SearchFilters(tag="vip")])
def test_no_lookup_statement_walks_every_customer(sqlite_engine: Engine, term: str,
                                                  filters: SearchFilters) -> None:
    for statement, plan in _plans(sqlite_engine, term, filters):
        walks = ("SCAN customer " in plan + " " or "ix_customer_merged_into_id" in plan
                 # every customer with the tag, gathered to test a few against
                 or "customer_tag USING COVERING INDEX ix_customer_tag_tag_customer" in plan)
        assert not walks, f"{term!r} {filters}: {plan}\n{statement}"
