"""The KPI page: renders for managers under every period and filter, refuses marketing,
keeps its choices in the link, and shows a write on the next run."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from dashboard.text import plain
from db.core.access import Actor
from db.core.types import utcnow
from db.customers import orders
from db.demo.loader import load_demo_data
from db.kpi import board as kpi_board
from db.kpi.periods import PRESETS, preset
from db.segments import service as segments
from db.segments.definition import Condition, Group
from tests.pages.conftest import ROOT, started_by_home

KPI_PAGE = str(ROOT / "pages" / "kpis.py")
ADMIN = Actor("admin", "admin")


@pytest.fixture
def shop(app_db: Engine) -> Engine:
    load_demo_data(app_db, customers=300, seed=5, as_of=utcnow().date())
    return app_db


def _open(signed_in: Callable[[str], AppTest], role: str = "manager") -> AppTest:
    at = signed_in(role)
    at.switch_page(KPI_PAGE).run()
    assert not at.exception, at.exception
    return at


def test_home_starts_the_first_view_and_every_session_shares_it(
        signed_in: Callable[[str], AppTest], shop: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    computed: list[str] = []
    real = kpi_board.dashboard

    def counted(actor: Actor, *args: Any, **kwargs: Any) -> kpi_board.Dashboard:
        computed.append(actor.username)
        return real(actor, *args, **kwargs)

    monkeypatch.setattr(kpi_board, "dashboard", counted)
    at = started_by_home("manager", computed)  # before anyone opened the KPI page
    assert computed == ["manager"], "home did not start the KPI page's figures"
    at.switch_page(KPI_PAGE).run()
    assert not at.exception, at.exception
    revenue = _metric(at, "Revenue")
    admin = _open(signed_in, "admin")
    assert _metric(admin, "Revenue") == revenue
    assert computed == ["manager"]  # both pages showed the figures home started


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_every_preset_renders_tiles_and_charts(signed_in: Callable[[str], AppTest],
                                               shop: Engine) -> None:
    at = _open(signed_in)
    for period in PRESETS:
        at.selectbox(key="kpi_period").select(period).run()
        assert not at.exception, (period, at.exception)
        assert not at.error, [e.value for e in at.error]
        assert _metric(at, "Revenue").startswith("€")
        assert int(_metric(at, "Active customers").replace(",", "")) > 0
        assert at.query_params["period"] == period
    sales = [header.value for header in at.subheader]
    assert {"Revenue", "Orders", "Revenue by category", "Revenue by channel"} <= set(sales)
    assert "Cohort retention" not in sales  # only the open tab runs
    at.session_state["kpi_tab"] = "Customers"
    at.run()
    assert not at.exception, at.exception
    customers = [header.value for header in at.subheader]
    assert {"New and returning customers", "Customers by country", "Cohort retention",
            "RFM grid (today)", "Top 20 customers by revenue in the period"} <= set(customers)
    assert "Revenue by channel" not in customers
    at.session_state["kpi_tab"] = "Engagement"
    at.run()
    assert {"NPS over time", "Contacts by kind"} <= {h.value for h in at.subheader}
    assert at.query_params["period"] == list(PRESETS)[-1]  # the view stays as it was


def test_filters_and_a_segment_narrow_the_figures(signed_in: Callable[[str], AppTest],
                                                  shop: Engine) -> None:
    at = _open(signed_in)
    everyone = _metric(at, "Active customers")
    at.multiselect(key="kpi_countries").select("DE").run()
    assert not at.exception
    assert at.query_params["country"] == "DE"
    german = _metric(at, "Active customers")
    assert int(german.replace(",", "")) < int(everyone.replace(",", ""))
    at.multiselect(key="kpi_countries").unselect("DE").run()
    segment = segments.save_segment(ADMIN, name="Big spenders", description=None,
                                    kind="dynamic", definition=Group(children=[Condition(
                                        field="total_spend", op="ge", value="500")]),
                                    engine=shop)
    at = _open(signed_in)  # a new session sees the new segment in the list
    at.selectbox(key="kpi_segment").select(segment.id).run()
    assert not at.exception, at.exception
    assert at.query_params["segment"] == str(segment.id)
    assert int(_metric(at, "Active customers").replace(",", "")) < int(
        everyone.replace(",", ""))


def test_the_page_warms_the_segments_saved_last_so_choosing_one_waits_for_none(
        signed_in: Callable[[str], AppTest], shop: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    narrowed: list[int | None] = []  # the segment of each computation of the figures
    real = kpi_board.dashboard

    def counted(actor: Actor, *args: Any, **kwargs: Any) -> kpi_board.Dashboard:
        narrowed.append(args[2].segment_id)
        return real(actor, *args, **kwargs)

    at = signed_in("manager")
    # Saved after the sign-in (a new data version), so that home warmed nothing of it.
    segment = segments.save_segment(ADMIN, name="Big spenders", description=None,
                                    kind="dynamic", definition=Group(children=[Condition(
                                        field="total_spend", op="ge", value="500")]),
                                    engine=shop)
    monkeypatch.setattr(kpi_board, "dashboard", counted)
    at.switch_page(KPI_PAGE).run()
    assert not at.exception, at.exception
    deadline = time.monotonic() + 60
    while segment.id not in narrowed:  # computed in the background, once the page showed
        assert time.monotonic() < deadline, "the page did not warm the saved segment"
        time.sleep(0.05)
    at.selectbox(key="kpi_segment").select(segment.id).run()
    assert not at.exception, at.exception
    assert narrowed.count(segment.id) == 1  # the page showed the warmed figures


def test_custom_dates_are_checked_and_an_empty_period_says_so(
        signed_in: Callable[[str], AppTest], shop: Engine) -> None:
    today = utcnow().date()
    # The date fields reach back to 1 January of the first order's year: one order nine
    # years back leaves that year's first months empty.
    orders.record_order(ADMIN, 1, amount="10.00", category="books", channel="web",
                        product="A book", engine=shop,
                        ordered_at=datetime(today.year - 9, 6, 15, 12, tzinfo=UTC))
    at = _open(signed_in)
    at.selectbox(key="kpi_period").select("custom").run()
    at.date_input(key="kpi_first").set_value(today).run()
    at.date_input(key="kpi_last").set_value(today.replace(year=today.year - 1)).run()
    assert any("before the first" in w.value for w in at.warning)
    at.date_input(key="kpi_first").set_value(date(today.year - 9, 1, 1)).run()
    at.date_input(key="kpi_last").set_value(date(today.year - 9, 5, 31)).run()
    assert at.date_input(key="kpi_first").value == date(today.year - 9, 1, 1)
    assert not at.exception, at.exception
    assert any("No orders, answers or contacts" in i.value for i in at.info)
    assert _metric(at, "Revenue") == "€0.00"


def test_a_shared_link_opens_its_view_and_bad_parts_are_named(
        signed_in: Callable[[str], AppTest], shop: Engine) -> None:
    at = signed_in("manager")
    at.query_params.update({"period": "last_30", "by": "month", "country": "DE,XX",
                            "segment": "999"})
    at.switch_page(KPI_PAGE).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="kpi_period").value == "last_30"
    assert at.multiselect(key="kpi_countries").value == ["DE"]
    notes = " ".join(w.value for w in at.warning)
    assert "XX" in notes and "#999" in notes


def test_the_open_tab_is_in_the_link_and_a_link_opens_it(
        signed_in: Callable[[str], AppTest], shop: Engine) -> None:
    at = _open(signed_in)
    assert "tab" not in at.query_params  # the first tab keeps a plain link
    at.session_state["kpi_tab"] = "Customers"
    at.run()
    assert at.query_params["tab"] == "Customers"
    at.multiselect(key="kpi_countries").select("DE").run()
    assert (at.query_params["tab"], at.query_params["country"]) == ("Customers", "DE")
    at.session_state["kpi_tab"] = "Sales"
    at.run()
    assert "tab" not in at.query_params

    shared = signed_in("manager")  # a colleague opens the link
    shared.query_params.update({"period": "last_30", "tab": "Engagement"})
    shared.switch_page(KPI_PAGE).run()
    assert not shared.exception, shared.exception
    assert {"NPS over time", "Contacts by kind"} <= {h.value for h in shared.subheader}
    assert shared.query_params["tab"] == "Engagement"

    odd = signed_in("manager")
    odd.query_params.update({"tab": "<b>Nope</b>"})
    odd.switch_page(KPI_PAGE).run()
    assert not odd.exception, odd.exception
    assert "Revenue by category" in {h.value for h in odd.subheader}
    # Named as typed, shown literally (escaped for Markdown), never as markup.
    assert any(plain("<b>Nope</b>") in w.value and "Sales" in w.value for w in odd.warning)
    assert "tab" not in odd.query_params


def test_a_new_order_shows_on_the_next_run(signed_in: Callable[[str], AppTest],
                                           shop: Engine) -> None:
    at = _open(signed_in)
    at.selectbox(key="kpi_period").select("last_30").run()
    before = _metric(at, "Orders")
    orders.record_order(ADMIN, 1, amount="10.00", category="books", channel="web",
                        product="A book", engine=shop)
    at.run()
    assert int(_metric(at, "Orders").replace(",", "")) == int(before.replace(",", "")) + 1


def test_marketing_cannot_open_it(signed_in: Callable[[str], AppTest], shop: Engine) -> None:
    at = _open(signed_in, "marketing")
    assert any("does not give access" in e.value for e in at.error)
    assert not at.metric


def test_the_date_fields_follow_the_period_and_editing_them_makes_it_custom(
        signed_in: Callable[[str], AppTest], shop: Engine) -> None:
    at = _open(signed_in)
    today = utcnow().date()
    for period in PRESETS:
        at.selectbox(key="kpi_period").select(period).run()
        shown = preset(period, today)
        assert (at.date_input(key="kpi_first").value,
                at.date_input(key="kpi_last").value) == (shown.first, shown.last), period
    at.selectbox(key="kpi_period").select("last_30").run()
    first = today - timedelta(days=44)
    at.date_input(key="kpi_first").set_value(first).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="kpi_period").value == "custom"
    assert (at.query_params["period"], at.query_params["from"], at.query_params["to"]) == (
        "custom", first.isoformat(), today.isoformat())
    assert "45 days" in " ".join(caption.value for caption in at.caption)


def test_a_segment_deleted_while_shown_is_said_not_raised(signed_in: Callable[[str], AppTest],
                                                         shop: Engine) -> None:
    segment = segments.save_segment(ADMIN, name="Soon gone", description=None,
                                    kind="dynamic", definition=Group(children=[Condition(
                                        field="total_spend", op="ge", value="500")]),
                                    engine=shop)
    at = _open(signed_in)
    at.selectbox(key="kpi_segment").select(segment.id).run()
    assert not at.exception and not at.error
    segments.delete_segment(ADMIN, segment.id, engine=shop)  # in another tab
    at.run()
    assert not at.exception, at.exception
    shown = [e.value for e in at.error] + [w.value for w in at.warning]
    assert at.session_state["kpi_segment"] is None or shown, (
        "the page neither said the segment is gone nor went back to all customers")
