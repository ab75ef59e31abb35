"""Sizes of saved segments: the list, the day's first count, overlap, static snapshots."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from db.models import SegmentSize
from db.segments import service, sizes
from db.segments.definition import Group
from tests import factories
from tests.factories import MARKETING
from tests.segments.common import GERMANS, unreadable_segment


def test_static_segments_keep_their_snapshot(engine: Engine, people: dict) -> None:
    static = service.save_segment(MARKETING, name="Germans today", description=None,
                                  kind="static", definition=GERMANS, engine=engine)
    assert static.snapshot_at is not None
    factories.customer(engine, "Emil", "New")
    dynamic = service.save_segment(MARKETING, name="Germans now", description=None,
                                   kind="dynamic", definition=GERMANS, engine=engine)
    listed = {row.name: row.size for row in sizes.list_segments(MARKETING, engine=engine)}
    assert listed == {"Germans today": 3, "Germans now": 4}
    overlap = sizes.overlap(MARKETING, [static.id, dynamic.id], engine=engine)
    assert overlap.iloc[0][["both", "first_size", "second_size"]].tolist() == [3, 3, 4]


def test_sizes_are_recorded_once_a_day(engine: Engine, people: dict) -> None:
    saved = service.save_segment(MARKETING, name="Germans", description=None,
                                 kind="dynamic", definition=GERMANS, engine=engine)
    sizes.segment_size(MARKETING, saved.id, engine=engine)
    factories.customer(engine, "Emil", "New")
    assert sizes.segment_size(MARKETING, saved.id, engine=engine) == 4
    history = sizes.size_history(MARKETING, saved.id, engine=engine)
    assert len(history) == 1 and history["size"].iloc[0] == 3  # the day's first evaluation
    with Session(engine) as session:
        assert session.get(SegmentSize, (saved.id, history["day"].iloc[0])) is not None
        assert isinstance(history["day"].iloc[0], date)
    # A new definition makes today's recorded size stale: the next count replaces it.
    service.update_segment(MARKETING, saved.id, expected_version=saved.version,
                           name="Germans", description=None, kind="dynamic",
                           definition=Group(), engine=engine)
    assert sizes.segment_size(MARKETING, saved.id, engine=engine) == 5
    assert list(sizes.size_history(MARKETING, saved.id, engine=engine)["size"]) == [5]


def test_copies_keep_the_snapshot_and_unreadable_definitions_do_not_break_the_list(
        engine: Engine, people: dict) -> None:
    static = service.save_segment(MARKETING, name="Germans then", description=None,
                                  kind="static", definition=GERMANS, engine=engine)
    factories.customer(engine, "Emil", "New")
    copy = service.duplicate_segment(MARKETING, static.id, engine=engine)
    assert copy.snapshot_at == static.snapshot_at
    assert sizes.segment_size(MARKETING, copy.id, engine=engine) == 3  # not today's 4

    broken = unreadable_segment(engine)
    listed = {row.name: row.size for row in sizes.list_segments(MARKETING, engine=engine)}
    assert listed["Broken"] == -1 and listed["Germans then"] == 3
    service.delete_segment(MARKETING, broken.id, engine=engine)  # still removable
