"""A real fit over a tiny population, for the page tests of the prediction scores."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine

from db.core.access import Actor
from db.core.types import utcnow
from db.derived import buyer_cells, kpi_tables, search_index, summary
from db.predict.service import FitInfo, fit_and_store
from tests.predict.conftest import population

FITTER = Actor("admin", "admin")
BUYERS = 120  # enough for the model's minimum of buyers and repeat buyers, still quick


def as_of() -> date:
    """Yesterday: recent data, so the fit is scored as of the newest order."""
    return utcnow().date() - timedelta(days=1)


def shop(engine: Engine) -> None:
    """``BUYERS`` customers buying as BG/NBD says (ids from 1000) with their derived
    tables."""
    population(engine, BUYERS, as_of=as_of())
    with engine.begin() as connection:  # written past the services: derive as they would
        for rebuild in (summary.rebuild, kpi_tables.rebuild, buyer_cells.rebuild,
                        search_index.rebuild):
            rebuild(connection)


def fit(engine: Engine) -> FitInfo:
    return fit_and_store(FITTER, as_of=as_of(), engine=engine)


def fitted(engine: Engine) -> FitInfo:
    """:func:`shop`, fitted and stored."""
    shop(engine)
    return fit(engine)
