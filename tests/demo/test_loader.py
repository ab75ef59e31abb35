"""The demo generator: deterministic, realistic in the ways the module promises, and safe."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from db.core.engine import make_engine
from db.demo import vocabulary as vocab
from db.demo.loader import DemoDataError, load_demo_data
from db.models import ConsentEvent, Customer, Feedback, Order
from db.search.index import fold

AS_OF = date(2026, 6, 15)


def _frame(engine: Engine, model: type) -> pd.DataFrame:
    with Session(engine) as session:
        rows = session.exec(select(model).order_by(model.id)).scalars().all()  # type: ignore[attr-defined]
        return pd.DataFrame([row.model_dump() for row in rows])


@pytest.fixture
def demo_engine(engine: Engine) -> Engine:
    load_demo_data(engine, customers=1500, seed=11, as_of=AS_OF)
    return engine


def _fresh_sqlite_demo(template: Path, path: Path, seed: int) -> Engine:
    path.write_bytes(template.read_bytes())
    engine = make_engine(f"sqlite:///{path}")
    load_demo_data(engine, customers=1500, seed=seed, as_of=AS_OF)
    return engine


def test_same_seed_gives_the_same_rows_on_every_engine(demo_engine: Engine, sqlite_template: Path,
                                                        tmp_path: Path) -> None:
    """A second load into a fresh SQLite file matches the first load (SQLite or PostgreSQL)."""
    again = _fresh_sqlite_demo(sqlite_template, tmp_path / "again.sqlite", seed=11)
    for model in (Customer, Order, Feedback):
        pd.testing.assert_frame_equal(_frame(demo_engine, model), _frame(again, model))


def test_another_seed_gives_other_people(demo_engine: Engine, sqlite_template: Path,
                                         tmp_path: Path) -> None:
    other = _fresh_sqlite_demo(sqlite_template, tmp_path / "other.sqlite", seed=12)
    first = _frame(demo_engine, Customer)
    second = _frame(other, Customer)
    assert (first["last_name"] != second["last_name"]).mean() > 0.9


def test_demo_data_looks_like_a_real_business(demo_engine: Engine) -> None:
    customers = _frame(demo_engine, Customer).set_index("id")
    orders = _frame(demo_engine, Order)
    orders["amount"] = orders["amount"].map(Decimal).astype(float)

    # Cities and postcodes fit the customer's country.
    cities = {c.code: {name for name, _ in c.cities} for c in vocab.COUNTRIES}
    assert all(row.city in cities[row.country] for row in customers.itertuples())
    # Emails are derived from the name, and unique.
    emails = customers.dropna(subset=["email"])
    from_name = [fold(r.last_name).replace(" ", "").replace("-", "").replace("'", "")
                 in r.email for r in emails.itertuples()]
    assert sum(from_name) / len(emails) > 0.95
    assert emails["email"].is_unique
    assert all(email.endswith(vocab.EMAIL_DOMAINS) for email in emails["email"])

    # A minority of customers brings most of the revenue.
    spend = orders.groupby("customer_id")["amount"].sum().sort_values(ascending=False)
    top_fifth = spend.head(len(spend) // 5).sum() / spend.sum()
    assert top_fifth > 0.5
    # Seasonality: December outsells July, per day, across the years.
    month = orders["ordered_at"].map(lambda at: at.month)
    assert orders[month == 12]["amount"].sum() > 1.3 * orders[month == 7]["amount"].sum()
    # Orders fall after sign-up and before the day the data ends.
    joined = orders.join(customers["created_at"], on="customer_id")
    assert (joined["ordered_at"] >= joined["created_at"]).all()
    assert orders["ordered_at"].max() < datetime(2026, 6, 15, tzinfo=UTC)
    # Some customers stopped buying; some never bought; statuses say so.
    assert set(customers["status"]) == {"lead", "active", "inactive", "churned"}
    buyers = set(orders["customer_id"])
    assert all(cid not in buyers for cid in customers.index[customers["status"] == "lead"])

    consent = _frame(demo_engine, ConsentEvent)
    email_consent = consent[consent["purpose"] == "email_marketing"]
    assert 0.3 < email_consent["granted"].mean() < 1  # grants and some withdrawals
    feedback = _frame(demo_engine, Feedback)
    assert feedback["nps_score"].between(0, 10).all()
    assert feedback["nps_score"].nunique() > 5


def test_refuses_a_database_that_already_has_customers(demo_engine: Engine) -> None:
    with pytest.raises(DemoDataError, match="already holds 1,500 customers"):
        load_demo_data(demo_engine, customers=10, seed=1, as_of=AS_OF)


def test_fold_keeps_what_an_email_can_hold() -> None:
    assert fold("José Müller-Łukasz") == "jose muller-lukasz"
    assert fold("Straße") == "strasse"
