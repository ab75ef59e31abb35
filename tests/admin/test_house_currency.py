"""The house currency setting is where an order or an import starts when no currency is
given; a currency given explicitly is kept."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from db.admin import settings
from db.customers.orders import record_order
from db.imports import __main__ as command
from db.imports.rows import Options
from tests import factories
from tests.factories import ADMIN


def test_an_order_without_a_currency_is_in_the_house_currency(engine: Engine) -> None:
    customer = factories.customer(engine)
    assert customer.id is not None
    assert factories.order(engine, customer.id).currency == "EUR"  # the default
    settings.update(ADMIN, {"house_currency": "GBP"}, engine=engine)
    assert factories.order(engine, customer.id, "12.00").currency == "GBP"
    given = record_order(ADMIN, customer.id, amount="5", category="books", channel="web",
                         product="Pen", currency="usd", engine=engine)
    assert given.currency == "USD"


def test_the_import_options_start_from_the_house_currency(engine: Engine) -> None:
    assert Options.house(engine=engine) == Options()  # EUR until changed
    settings.update(ADMIN, {"house_currency": "CHF"}, engine=engine)
    assert Options.house(engine=engine) == Options(currency="CHF")
    assert Options.house(engine=engine).problems() == []


def test_the_import_command_defaults_to_the_house_currency(
        engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    settings.update(ADMIN, {"house_currency": "SEK"}, engine=engine)
    columns = ["Kundennummer", "Bestelldatum", "Betrag"]
    _, options = command._mapping(None, "orders", columns, None)
    assert options.currency == "SEK"
