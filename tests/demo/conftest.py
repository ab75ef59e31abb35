"""A database with 1,500 demo customers, shared by the demo tests."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from db.demo.loader import load_demo_data

AS_OF = date(2026, 6, 15)


@pytest.fixture
def demo_engine(engine: Engine) -> Engine:
    load_demo_data(engine, customers=1500, seed=11, as_of=AS_OF)
    return engine
