"""The KPI page's figures shared by every session: computed once per key, the first view
warmed, the role checked on every call, a deleted segment answered with its error."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from dashboard import kpi_figures
from dashboard.kpi_view import View
from db.core.access import Actor, PermissionDenied
from db.core.types import utcnow
from db.demo.loader import load_demo_data
from db.kpi import board as kpi_board
from db.kpi.periods import as_of
from db.segments.membership import SegmentNotFound

MANAGER = Actor("manager", "manager")
TODAY = date(2026, 11, 30)


@pytest.fixture
def shop(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Actor]]:
    """A small shop; the actors each figure was computed for, in order."""
    load_demo_data(engine, customers=120, seed=3, as_of=TODAY)
    kpi_figures.forget()
    computed: list[Actor] = []
    real = kpi_board.dashboard

    def counted(actor: Actor, *args: Any, **kwargs: Any) -> kpi_board.Dashboard:
        computed.append(actor)
        return real(actor, *args, **kwargs)

    monkeypatch.setattr(kpi_board, "dashboard", counted)
    yield computed
    kpi_figures.forget()


def test_one_computation_serves_every_session_of_a_version(engine: Engine,
                                                           shop: list[Actor]) -> None:
    version = kpi_board.data_version(engine=engine)
    first = kpi_figures.figures(MANAGER, View(), today=TODAY, anchor=TODAY, version=version,
                                engine=engine)
    again = kpi_figures.figures(Actor("admin", "admin"), View(), today=TODAY, anchor=TODAY,
                                version=version, engine=engine)
    assert isinstance(first, kpi_figures.Figures) and again is first
    assert first.drawn["revenue_cents"].spec is not None
    other = kpi_figures.figures(MANAGER, View(granularity="day"), today=TODAY, anchor=TODAY,
                                version=version, engine=engine)
    newer = kpi_figures.figures(MANAGER, View(), today=TODAY, anchor=TODAY,
                                version=(*version[:-1], version[-1] + 1), engine=engine)
    assert other is not first and newer is not first
    assert shop == [MANAGER] * 3


def test_the_role_is_checked_on_a_known_figure_too(engine: Engine, shop: list[Actor]) -> None:
    version = kpi_board.data_version(engine=engine)
    kpi_figures.figures(MANAGER, View(), today=TODAY, anchor=TODAY, version=version,
                        engine=engine)
    with pytest.raises(PermissionDenied):
        kpi_figures.figures(Actor("marketing", "marketing"), View(), today=TODAY,
                            anchor=TODAY, version=version, engine=engine)
    with pytest.raises(PermissionDenied):
        kpi_figures.warm(Actor("marketing", "marketing"), version, engine=engine)


def test_warm_computes_the_view_the_page_opens_on(engine: Engine, shop: list[Actor]) -> None:
    version = kpi_board.data_version(engine=engine)
    kpi_figures.warm(MANAGER, version, engine=engine)
    today = utcnow().date()
    days = kpi_board.order_days(MANAGER, engine=engine)
    anchor = as_of(today, days.last if days else None)
    shown = kpi_figures.figures(Actor("admin", "admin"), View(), today=today, anchor=anchor,
                                version=version, engine=engine)
    assert isinstance(shown, kpi_figures.Figures)
    assert shop == [MANAGER]  # the admin's page waited for the manager's warm-up
    assert shown.board.period == View().resolve(anchor)


def test_a_deleted_segment_is_answered_with_its_error(engine: Engine,
                                                      shop: list[Actor]) -> None:
    shown = kpi_figures.figures(MANAGER, View(segment_id=999_999), today=TODAY, anchor=TODAY,
                                version=kpi_board.data_version(engine=engine), engine=engine)
    assert isinstance(shown, SegmentNotFound)


def test_the_segments_saved_last_are_warmed_after_the_first_view(
        engine: Engine, shop: list[Actor], monkeypatch: pytest.MonkeyPatch) -> None:
    from db.segments import service as segments
    from db.segments.definition import Condition, Group

    monkeypatch.setattr(kpi_figures, "WARM_SEGMENTS", 2)
    ids = [segments.save_segment(
        MANAGER, name=f"From {country}", description=None, kind="dynamic",
        definition=Group(children=[Condition(field="country", op="eq", value=country)]),
        engine=engine).id for country in ("DE", "FR", "NL")]
    version = kpi_board.data_version(engine=engine)
    today = utcnow().date()
    days = kpi_board.order_days(MANAGER, engine=engine)
    anchor = as_of(today, days.last if days else None)
    kpi_figures.warm(MANAGER, version, engine=engine)
    for segment_id in (ids[2], ids[1]):  # the two saved last, by their own turn
        key = kpi_figures._key(engine, View(segment_id=segment_id), today, anchor, version)
        deadline = utcnow().timestamp() + 30
        while not kpi_figures._FIGURES.known(key):
            assert utcnow().timestamp() < deadline, "not warmed"
            time.sleep(0.05)
    assert len(shop) == 3  # the first view and the two segments, nothing more
    shown = kpi_figures.figures(Actor("admin", "admin"), View(segment_id=ids[2]), today=today,
                                anchor=anchor, version=version, engine=engine)
    assert isinstance(shown, kpi_figures.Figures) and len(shop) == 3
    view = View(segment_id=ids[2])
    direct = kpi_board.dashboard(MANAGER, view.resolve(anchor), view.granularity,
                                 view.filters, today=today, as_of=anchor, engine=engine)
    assert shown.board.sales == direct.sales and shown.board.sales.orders > 0
    with pytest.raises(PermissionDenied):
        kpi_figures.warm_segments(Actor("marketing", "marketing"), version, today=today,
                                  anchor=anchor, engine=engine)
