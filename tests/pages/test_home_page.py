"""Home's figures follow the data: a write, an import included, shows at the next click, not
only when the page's cache expires."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from db.imports import engine as imports
from db.imports.mapping import suggest
from db.imports.reading import open_table
from tests.factories import ADMIN, customer, order
from tests.pages.conftest import ROOT

HOME = str(ROOT / "pages" / "home.py")


def _figures(at: AppTest) -> dict[str, str]:
    assert not at.exception, at.exception
    return {metric.label: metric.value for metric in at.metric}


def test_an_import_shows_on_home_at_the_next_click(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    customer(app_db, "Ada", "Before")
    at = signed_in("marketing")
    at.switch_page(HOME).run()
    assert _figures(at)["Customers"] == "1"
    data = b"first name,last name,country\nBen,Kurz,DE\nCleo,Lang,AT\n"
    table = open_table(data, name="list.csv")
    imports.commit(ADMIN, imports.Request("customers", data, table,
                                          suggest("customers", table.columns)), engine=app_db)
    at.run()
    assert _figures(at)["Customers"] == "3"


def test_home_counts_orders_as_the_kpi_page_does(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    buyer = customer(app_db, "Ada", "Buyer").id or 0
    order(app_db, buyer, "30.00")
    order(app_db, buyer, "-10.00")  # a refund is counted apart, not as an order
    at = signed_in("manager")
    at.switch_page(HOME).run()
    assert _figures(at)["Orders"] == "1"
