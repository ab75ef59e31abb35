"""First-run setup: demo users and data into an empty database, nothing on later runs."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from db.models import Customer, User
from db.setup import DEMO_USERS, setup
from db.users.service import authenticate


def test_setup_fills_an_empty_database_once(engine: Engine, database_url: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    report = setup(demo_customers=50)
    assert any("demo users" in line for line in report)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Customer)).one() == 50
        roles = set(session.exec(select(User.role)))
    assert roles == {"admin", "manager", "marketing"}
    for username, _, role, password in DEMO_USERS:
        user = authenticate(username, password, engine=engine)
        assert user is not None and user.role == role

    assert setup(demo_customers=50) == []  # second run: nothing added
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Customer)).one() == 50
