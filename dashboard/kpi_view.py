"""The KPI page's choices (period, granularity, filters) and their form in the URL.

Kept in ``st.query_params`` so that a view can be shared as a link; parsed here without
Streamlit so that every malformed link is tested. A value that does not read is dropped
with a note, never an error: a shared link should still open.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

from db.kpi.filters import Filters
from db.kpi.periods import GRANULARITIES, PRESETS, Period, preset

CUSTOM = "custom"
PERIOD_CHOICES = {**PRESETS, CUSTOM: "Custom dates"}
# Longest custom period: day-by-day charts of more would not read, and the sets behind the
# customer counts grow with it.
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class View:
    period: str = "last_90"
    first: date | None = None  # custom periods only
    last: date | None = None
    granularity: str = "week"
    countries: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    segment_id: int | None = None

    def resolve(self, today: date) -> Period:
        """The period chosen, ending at ``today`` for the presets."""
        if self.period == CUSTOM and self.first and self.last:
            return Period(self.first, self.last)
        return preset(self.period if self.period in PRESETS else View.period, today)

    @property
    def filters(self) -> Filters:
        return Filters(countries=self.countries, channels=self.channels,
                       categories=self.categories, segment_id=self.segment_id)


def _listed(text: str | None, allowed: set[str] | None) -> tuple[tuple[str, ...], list[str]]:
    values = [value for value in (text or "").split(",") if value]
    if allowed is None:
        return tuple(values), []
    unknown = [value for value in values if value not in allowed]
    return tuple(value for value in values if value in allowed), unknown


def from_params(params: Mapping[str, str], *, today: date, options: Mapping[str, set[str]],
                segments: Collection[int]) -> tuple[View, list[str]]:
    """The view a link asks for, and what in it was ignored (as notes for the reader).

    ``options`` holds the known countries, channels and categories; ``segments`` the ids of
    the saved segments the reader may choose.
    """
    notes: list[str] = []
    period = params.get("period", View.period)
    if period not in PERIOD_CHOICES:
        notes.append(f"Unknown period “{period}”: showing {PRESETS[View.period].lower()}.")
        period = View.period
    first = last = None
    if period == CUSTOM:
        try:
            first = date.fromisoformat(params.get("from", ""))
            last = date.fromisoformat(params.get("to", ""))
        except ValueError:
            notes.append("Custom dates must be written as YYYY-MM-DD: showing "
                         f"{PRESETS[View.period].lower()}.")
            period, first, last = View.period, None, None
        else:
            problem = custom_problem(first, last, today)
            if problem:
                notes.append(problem + f" Showing {PRESETS[View.period].lower()}.")
                period, first, last = View.period, None, None
    granularity = params.get("by", View.granularity)
    if granularity not in GRANULARITIES:
        notes.append(f"Unknown granularity “{granularity}”: showing weeks.")
        granularity = View.granularity
    chosen = {}
    for key, name in (("country", "countries"), ("channel", "channels"),
                      ("category", "categories")):
        chosen[name], unknown = _listed(params.get(key), options.get(name))
        if unknown:
            notes.append(f"No data for {key} {', '.join(unknown)}: left out of the filter.")
    segment_id = None
    if params.get("segment"):
        text = params["segment"]
        if text.isdigit() and int(text) in segments:
            segment_id = int(text)
        else:
            notes.append(f"Saved segment #{text} no longer exists: showing all customers.")
    return View(period=period, first=first, last=last, granularity=granularity,
                segment_id=segment_id, **chosen), notes


def custom_problem(first: date | None, last: date | None, today: date) -> str | None:
    """Why a custom period cannot be shown, or None."""
    if first is None or last is None:
        return "Choose both a first and a last day."
    if last < first:
        return "The last day comes before the first."
    if last > today:
        return "The period cannot end in the future."
    if (last - first).days + 1 > MAX_DAYS:
        return "Choose at most three years."
    return None


def to_params(view: View) -> dict[str, str]:
    """The link form of ``view`` (empty filters left out, so a plain link stays short)."""
    params = {"period": view.period, "by": view.granularity}
    if view.period == CUSTOM and view.first and view.last:
        params |= {"from": view.first.isoformat(), "to": view.last.isoformat()}
    for key, values in (("country", view.countries), ("channel", view.channels),
                        ("category", view.categories)):
        if values:
            params[key] = ",".join(values)
    if view.segment_id is not None:
        params["segment"] = str(view.segment_id)
    return params
