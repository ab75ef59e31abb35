"""The KPI page and the profile with an order log from 1997–98: the date fields reach its
first order, the presets and the RFM grid end at its newest order and say so, a customer's
"customer since" is not the day they were put on file, and a bulk load shows on the next
run without clearing a cache."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from db.core.engine import get_engine
from db.core.types import utcnow
from db.demo.loader import load_demo_data
from db.kpi.board import data_version
from db.kpi.periods import PRESETS, preset
from tests import factories
from tests.kpi import old_shop
from tests.kpi.old_shop import FIRST_DAY, LAST_DAY
from tests.pages.conftest import ROOT, open_profile

KPI_PAGE = str(ROOT / "pages" / "kpis.py")
NOTE = "Your newest order is from 30 Jun 1998; periods end there"


@pytest.fixture
def old(app_db: Engine) -> pd.DataFrame:
    frame = old_shop.build(app_db)
    frame["day"] = frame["at"].map(lambda moment: moment.astimezone(UTC).date())
    return frame


def _open(signed_in: Callable[[str], AppTest]) -> AppTest:
    """The KPI page on its Customers tab (the RFM grid's)."""
    at = signed_in("manager")
    at.session_state["kpi_tab"] = "Customers"
    at.switch_page(KPI_PAGE).run()
    assert not at.exception, at.exception
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in (at.info, at.caption, at.warning, at.markdown)
                    for e in kind)


def test_the_date_fields_reach_back_to_the_first_order(signed_in: Callable[[str], AppTest],
                                                      old: pd.DataFrame) -> None:
    at = _open(signed_in)
    for key in ("kpi_first", "kpi_last"):
        assert at.date_input(key=key).min <= FIRST_DAY, key
        assert at.date_input(key=key).max == utcnow().date(), key
    at.selectbox(key="kpi_period").select("custom").run()
    at.date_input(key="kpi_first").set_value(date(1997, 1, 1)).run()
    at.date_input(key="kpi_last").set_value(date(1997, 12, 31)).run()
    assert not at.exception, at.exception
    assert (at.date_input(key="kpi_first").value,
            at.date_input(key="kpi_last").value) == (date(1997, 1, 1), date(1997, 12, 31))
    assert (at.query_params["from"], at.query_params["to"]) == ("1997-01-01", "1997-12-31")
    year = old[old["day"] <= date(1997, 12, 31)]
    assert _metric(at, "Revenue") == f"€{year['amount'].sum():,.2f}"
    assert int(_metric(at, "Orders")) == int((year["amount"] >= 0).sum())
    for tab, charts in (("Customers", 4), ("Sales", 4)):
        at.session_state["kpi_tab"] = tab
        at.run()
        assert not [i.value for i in at.info if "No orders" in i.value
                    or "No customer" in i.value], f"every 1997 chart of {tab} has rows"
        assert len(at.get("vega_lite_chart")) == charts, tab


def test_the_date_fields_say_what_they_take_and_keep_an_earlier_day_from_a_link(
        signed_in: Callable[[str], AppTest], old: pd.DataFrame) -> None:
    at = _open(signed_in)
    assert ("The date fields take any day from 01 Jan 1997 to today "
            f"({utcnow().date():%d %b %Y}); the first order is from 02 Jan 1997.") in _texts(at)
    assert at.date_input(key="kpi_first").help == at.date_input(key="kpi_last").help
    assert "from 01 Jan 1997 to today" in str(at.date_input(key="kpi_first").help)
    at = signed_in("manager")
    at.query_params.update({"period": "custom", "from": "1995-01-01", "to": "1997-01-31"})
    at.switch_page(KPI_PAGE).run()
    assert not at.exception, at.exception
    assert at.date_input(key="kpi_first").value == date(1995, 1, 1)  # not reverted
    assert at.date_input(key="kpi_first").min <= date(1995, 1, 1)
    assert at.query_params["from"] == "1995-01-01"
    assert _metric(at, "Orders") != "0"


def test_presets_and_the_rfm_grid_end_at_the_newest_order_and_say_so(
        signed_in: Callable[[str], AppTest], old: pd.DataFrame) -> None:
    at = _open(signed_in)
    assert NOTE in _texts(at)
    for period in PRESETS:
        at.selectbox(key="kpi_period").select(period).run()
        assert not at.exception, (period, at.exception)
        shown = preset(period, LAST_DAY)
        assert (at.date_input(key="kpi_first").value,
                at.date_input(key="kpi_last").value) == (shown.first, shown.last), period
        assert int(_metric(at, "Active customers")) > 0, period
        assert NOTE in _texts(at), period
    headers = [header.value for header in at.subheader]
    assert "RFM grid (as of 30 Jun 1998)" in headers
    assert "RFM grid (today)" not in headers
    last = old.groupby("customer_id")["day"].max()
    recent = int((last >= LAST_DAY - timedelta(days=30)).sum())
    groups = next(d.value for d in at.dataframe
                  if d.value.columns.tolist() == ["group", "customers"])
    assert int(groups["customers"].sum()) == old["customer_id"].nunique()
    # Scored today every one of them would be "Lost" or "Can't lose" (decades since).
    lapsed = groups["group"].isin(["Lost", "Can't lose"])
    assert int(groups[~lapsed]["customers"].sum()) >= recent > 0

def test_current_data_keeps_periods_ending_today(signed_in: Callable[[str], AppTest],
                                                 app_db: Engine) -> None:
    buyer = factories.customer(app_db, "Now", "Buyer").id
    factories.order(app_db, buyer, "12.00", ordered_at=utcnow() - timedelta(days=3))
    factories.order(app_db, buyer, "12.00",
                    ordered_at=datetime(1997, 5, 5, 12, tzinfo=UTC))
    at = _open(signed_in)
    assert "Your newest order is from" not in _texts(at)
    today = utcnow().date()
    assert at.date_input(key="kpi_last").value == today
    assert at.date_input(key="kpi_first").min <= date(1997, 5, 5)
    assert "RFM grid (today)" in [header.value for header in at.subheader]


def test_a_bulk_load_shows_on_the_next_run(signed_in: Callable[[str], AppTest],
                                           app_db: Engine) -> None:
    at = _open(signed_in)
    assert _metric(at, "Orders") == "0"
    before = data_version(engine=app_db)
    # The loader asks SQLite for a rollback journal, which waits for no other connection to
    # the file: the app's pooled connections are closed first (its caches are left alone).
    get_engine().dispose()
    load_demo_data(app_db, customers=40, seed=3, as_of=utcnow().date())
    assert data_version(engine=app_db) != before
    at.run()  # no cache cleared by hand
    assert not at.exception, at.exception
    assert int(_metric(at, "Orders").replace(",", "")) > 0


def test_customer_since_is_the_first_order_when_that_is_earlier(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    filed_today = factories.customer(app_db, "Filed", "Today").id
    factories.order(app_db, filed_today, "10.00",
                    ordered_at=datetime(1997, 3, 4, 12, tzinfo=UTC))
    at = open_profile(signed_in, "manager", filed_today)
    header = " ".join(t.value for t in at.text)
    assert "customer since 1997-03-04" in header
    on_file = factories.customer(app_db, "Filed", "Early").id
    factories.order(app_db, on_file, "10.00", ordered_at=datetime(1998, 2, 1, 12, tzinfo=UTC))
    old_shop.put_on_file_since(app_db, [on_file])
    at = open_profile(signed_in, "manager", on_file)
    assert "customer since 1997-01-01" in " ".join(t.value for t in at.text)
