"""The KPI page's figures with their charts and downloads, computed once per view, day and
data version and shared by every session of the server process; the first view of the page
warmed at sign-in.

Why: at a million customers the first open of the KPI page after a restart or a write spent
0.4–1.2 s on its figures and 0.4 s building their charts (on two cores, beside the sign-in's
other work). Streamlit's cache, keyed by the user too, recomputed them for every user, and
always once the user had clicked. Home now
starts computing the view the page opens on (:func:`warm`) while the user reads it, and the
page waits for that computation instead of starting its own (:class:`db.core.background.
Computed`). The figures do not depend on who asks, so one computation serves every role
that may see them; the role is checked on every call, hit or not.

The same view narrowed to each of the few segments saved last is warmed after it, one after
another at the lowest CPU priority (:func:`warm_segments`): the first open of a segment's
figures after a restart took 2.1 s on SQLite and 2.5–3.7 s on PostgreSQL at a million
customers, 0.75–0.9 s of it computing them. The KPI page warms them too, at every new data
version it shows, so that choosing a segment there finds its figures ready.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from dashboard.kpi_view import View
from db.core.access import Actor, Capability, require
from db.core.background import Computed
from db.core.engine import get_engine
from db.core.types import utcnow
from db.kpi import board as kpi_board
from db.kpi.periods import as_of
from db.segments import service as segments
from db.segments.membership import SegmentError, SegmentNotFound

if TYPE_CHECKING:
    from dashboard.kpi_drawings import Drawn


@dataclass(frozen=True)
class Figures:
    """Every figure of one view, with its charts and downloads ready to draw."""

    board: kpi_board.Dashboard
    drawn: dict[str, Drawn]


# A view's figures, or why its segment cannot be used (deleted, or broken): that answer is
# the same for every session until a write changes the data version.
Shown = Figures | SegmentError | SegmentNotFound

# Per (database, view, today, anchor, data version): the newest few.
_FIGURES: Computed[Shown] = Computed("KPI figures", keep=32)
WARM_SEGMENTS = 3  # how many of the segments saved last have their figures warmed


def figures(actor: Actor, view: View, *, today: date, anchor: date, version: Hashable,
            engine: Engine | None = None) -> Shown:
    """The figures of ``view`` (presets end and the RFM grid is scored on ``anchor``), or
    the error that says why its segment cannot be used. Waits for a computation of the same
    key under way (another session's, or :func:`warm`'s) rather than starting a second."""
    require(actor, Capability.VIEW_KPIS)
    engine = engine or get_engine()
    return _FIGURES.value(_key(engine, view, today, anchor, version),
                          partial(_compute, actor, view, today, anchor, engine))


def warm(actor: Actor, version: Hashable, *, engine: Engine | None = None) -> None:
    """Start computing, in the background, the view the KPI page opens on without a link
    (:class:`View`'s defaults) unless that is done or under way."""
    require(actor, Capability.VIEW_KPIS)
    engine = engine or get_engine()
    today = utcnow().date()
    days = kpi_board.order_days(actor, engine=engine)
    anchor = as_of(today, days.last if days else None)
    first = _key(engine, View(), today, anchor, version)
    _FIGURES.start(first, partial(_compute, actor, View(), today, anchor, engine))
    warm_segments(actor, version, today=today, anchor=anchor, engine=engine, after=first)


def warm_segments(actor: Actor, version: Hashable, *, today: date, anchor: date,
                  engine: Engine | None = None, after: Hashable | None = None) -> None:
    """Start computing, one after another in the background at the lowest CPU priority and
    after the computation of the key ``after`` under way, the page's first view narrowed to
    each of the :data:`WARM_SEGMENTS` segments saved last, skipping those done or under way:
    the figures a link to a segment's KPIs, or choosing it on the page, opens next."""
    require(actor, Capability.VIEW_KPIS)
    engine = engine or get_engine()
    views = [View(segment_id=segment_id)
             for segment_id in segments.recently_saved(actor, WARM_SEGMENTS, engine=engine)]
    _FIGURES.start_in_turn([(_key(engine, view, today, anchor, version),
                             partial(_compute, actor, view, today, anchor, engine))
                            for view in views], nice=19, after=after)


def forget() -> None:
    """Wait for the computations under way, then drop every figure: a database emptied or
    restored can reach a data version seen before (tests, a restore)."""
    _FIGURES.forget()


def _key(engine: Engine, view: View, today: date, anchor: date,
         version: Hashable) -> tuple[Hashable, ...]:
    return (engine.url.render_as_string(hide_password=True), view, today, anchor, version)


def _compute(actor: Actor, view: View, today: date, anchor: date, engine: Engine) -> Shown:
    # Imported here, in the background thread: home imports this module to warm the page,
    # and must not wait for Altair (about a second after a restart) to draw itself.
    from dashboard.kpi_drawings import drawings

    try:
        board = kpi_board.dashboard(actor, view.resolve(anchor), view.granularity,
                                    view.filters, today=today, as_of=anchor, engine=engine)
    except (SegmentError, SegmentNotFound) as error:
        return error
    return Figures(board, drawings(board, view.granularity, anchor))
