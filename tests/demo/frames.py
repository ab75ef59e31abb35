"""A table's rows as a DataFrame, for the demo tests that look at what was loaded."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, select
from sqlmodel import SQLModel

from db.core.sql import table_of


def frame(engine: Engine, model: type[SQLModel]) -> pd.DataFrame:
    table = table_of(model)
    with engine.connect() as connection:
        rows = connection.execute(select(table).order_by(table.c.id)).mappings().all()
    return pd.DataFrame([dict(row) for row in rows])
