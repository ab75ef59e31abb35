"""The KPI page's link form: every malformed link still opens, with a note of what was
ignored; a view survives the round trip."""

from __future__ import annotations

from datetime import date

from dashboard.kpi_view import CUSTOM, View, custom_problem, from_params, to_params

TODAY = date(2026, 11, 23)
OPTIONS = {"countries": {"DE", "AT"}, "channels": {"web", "app"}, "categories": {"books"}}
SEGMENTS = {4}


def test_a_view_survives_the_round_trip() -> None:
    view = View(period=CUSTOM, first=date(2026, 1, 1), last=date(2026, 3, 31),
                granularity="month", countries=("DE", "AT"), channels=("web",),
                categories=("books",), segment_id=4)
    assert from_params(to_params(view), today=TODAY, options=OPTIONS,
                       segments=SEGMENTS) == (view, [])
    assert to_params(View()) == {"period": "last_90", "by": "week"}


def test_bad_links_open_the_default_with_notes() -> None:
    view, notes = from_params({"period": "forever", "by": "hour", "country": "DE,XX,",
                               "segment": "12", "channel": "fax"}, today=TODAY,
                              options=OPTIONS, segments=SEGMENTS)
    assert view == View(countries=("DE",))
    assert len(notes) == 5 and any("XX" in note for note in notes)
    view, notes = from_params({"period": CUSTOM, "from": "2026-13-01", "to": "x"},
                              today=TODAY, options=OPTIONS, segments=SEGMENTS)
    assert view.period == "last_90" and "YYYY-MM-DD" in notes[0]
    view, notes = from_params({"period": CUSTOM, "from": "2026-05-01", "to": "2026-04-01"},
                              today=TODAY, options=OPTIONS, segments=SEGMENTS)
    assert view.period == "last_90" and "before the first" in notes[0]
    view, notes = from_params({"segment": "'; DROP TABLE segment;--"}, today=TODAY,
                              options=OPTIONS, segments=SEGMENTS)
    assert view.segment_id is None and len(notes) == 1


def test_custom_periods_are_checked() -> None:
    assert custom_problem(None, TODAY, TODAY) == "Choose both a first and a last day."
    assert "future" in custom_problem(TODAY, date(2026, 11, 24), TODAY)
    assert "three years" in custom_problem(date(2020, 1, 1), TODAY, TODAY)
    assert custom_problem(date(2026, 11, 23), TODAY, TODAY) is None
    assert View(period=CUSTOM, first=TODAY, last=TODAY).resolve(TODAY).days == 1
    assert View(period="year_to_date").resolve(TODAY).first == date(2026, 1, 1)
