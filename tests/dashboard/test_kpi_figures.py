"""The KPI page's figures shared by every session: computed once per key, the first view
warmed, the role checked on every call, a deleted segment answered with its error."""

from __future__ import annotations

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
