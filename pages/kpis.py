"""KPIs (admin, manager): how the customer base and revenue are doing, for a period and
filters that live in the link, so a view can be shared.

Every figure comes from one call (:func:`db.kpi.board.dashboard`), kept with its charts by
the choices, the day and the data version that every write changes, for every session
(:mod:`dashboard.kpi_figures`; home starts the first view): an edit shows on the next run,
and reruns that change nothing cost two small queries (the data version, and the segments
saved last, whose views the page warms so that choosing one finds its figures ready).

Below the tiles the charts sit in tabs (Sales, Customers, Engagement, Predictions), and only
the open tab runs: drawing all eleven charts and three tables took the browser 1.6–1.8 s
after the script had ended (at any size of database), so the page was not usable for that
long; a tab's figures are computed with the rest, so switching tabs costs a rerun.

Old data shows as it is: the date fields reach back to the first order, and when the newest
order is older than the last 30 days the presets end on its day and the RFM grid is scored
there (:func:`db.kpi.periods.as_of`), with a note saying so.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboard import kpi_figures, kpi_view
from dashboard.access import require_page
from dashboard.kpi_drawings import Drawn
from dashboard.kpi_tiles import tiles
from dashboard.predictions_kpis import predictions_section
from dashboard.text import counted, plain
from db.core.access import Actor, Capability
from db.core.types import utcnow
from db.kpi import board as kpi_board
from db.kpi.filters import filter_options
from db.kpi.periods import GRANULARITIES, Period, as_of
from db.segments import service as segments

ANY_SEGMENT = "All customers"
KEYS = {"period": "kpi_period", "first": "kpi_first", "last": "kpi_last",
        "granularity": "kpi_by", "countries": "kpi_countries", "channels": "kpi_channels",
        "categories": "kpi_categories", "segment": "kpi_segment", "tab": "kpi_tab"}
TABS = ("Sales", "Customers", "Engagement", "Predictions")


@st.cache_data(ttl=300, show_spinner=False)
def _options(role: str, username: str, version: tuple[int, ...]) -> dict[str, list[str]]:
    return filter_options(Actor(username, role))


@st.cache_data(ttl=300, show_spinner=False)
def _segments(role: str, username: str, version: tuple[int, ...]) -> dict[int, str]:
    return segments.segment_names(Actor(username, role))


@st.cache_data(ttl=300, show_spinner=False)
def _order_days(role: str, username: str, version: tuple[int, ...]) -> Period | None:
    return kpi_board.order_days(Actor(username, role))


def _start_from_link(today: date, anchor: date, options: dict[str, list[str]],
                     segment_names: dict[int, str]) -> None:
    """On the first run, set the widgets from the link (and say what in it was ignored);
    presets end on ``anchor``."""
    if KEYS["period"] in st.session_state:
        return
    known = {name: set(values) for name, values in options.items()}
    view, notes = kpi_view.from_params(st.query_params.to_dict(), today=today, options=known,
                                       segments=segment_names.keys())
    tab = st.query_params.get("tab")
    if tab in TABS:
        st.session_state[KEYS["tab"]] = tab
    elif tab is not None:
        notes.append(f"Unknown tab “{tab}”: showing {TABS[0]}.")
    st.session_state["kpi_notes"] = notes
    period = view.resolve(anchor)
    st.session_state.update({
        KEYS["period"]: view.period, KEYS["first"]: period.first, KEYS["last"]: period.last,
        KEYS["granularity"]: view.granularity, KEYS["countries"]: list(view.countries),
        KEYS["channels"]: list(view.channels), KEYS["categories"]: list(view.categories),
        KEYS["segment"]: view.segment_id})


def _tab_param() -> dict[str, str]:
    """The open tab as the link names it; none for the first, so a plain link stays short.
    A link (or a reload) then opens the tab that was shown, not always the first."""
    tab = st.session_state.get(KEYS["tab"])
    return {"tab": tab} if tab in TABS[1:] else {}


def _make_custom() -> None:
    """A date typed into From or To makes the period custom."""
    st.session_state[KEYS["period"]] = kpi_view.CUSTOM


def _earliest(days: Period | None, *shown: date) -> date:
    """The first day the date fields take: 1 January of the first order's year (so that
    its whole year can be chosen), or an earlier day they show (a preset reaching before
    the data, a link's), so that none is ever reset."""
    return min([*shown, *([days.first.replace(month=1, day=1)] if days else [])])


def _choices(today: date, anchor: date, days: Period | None, options: dict[str, list[str]],
             segment_names: dict[int, str]) -> kpi_view.View | None:
    """The widgets; the view they describe (None while custom dates do not make sense).

    The date fields always show the period's days: a preset writes its dates into them on
    every run (so they follow the choice, and ``anchor``), and editing one makes the period
    custom, starting from the dates shown. They take any day from the first order's year
    (``days``) to today, and say so beside them and in their help: Streamlit's own range (ten
    years before the value shown) refused an old order log's days, and a day outside the
    range never reaches the script (Streamlit puts the previous one back), so the range is
    told up front.
    """
    top = st.columns([2, 1.4, 1.4, 2])
    top[0].selectbox("Period", list(kpi_view.PERIOD_CHOICES), key=KEYS["period"],
                     format_func=kpi_view.PERIOD_CHOICES.__getitem__)
    custom = st.session_state[KEYS["period"]] == kpi_view.CUSTOM
    if not custom:
        shown = kpi_view.View(period=st.session_state[KEYS["period"]]).resolve(anchor)
        st.session_state[KEYS["first"]], st.session_state[KEYS["last"]] = (shown.first,
                                                                           shown.last)
    earliest = _earliest(days, *(st.session_state[KEYS[name]] for name in ("first", "last")
                                 if st.session_state[KEYS[name]] is not None))
    reach = (f"The date fields take any day from {earliest:%d %b %Y} to today "
             f"({today:%d %b %Y}); " + (f"the first order is from {days.first:%d %b %Y}."
                                          if days else "there are no orders yet."))
    top[1].date_input("From (UTC)", key=KEYS["first"], min_value=earliest, max_value=today,
                      format="YYYY-MM-DD", on_change=_make_custom,
                      help=reach)
    top[2].date_input("To (UTC)", key=KEYS["last"], min_value=earliest, max_value=today,
                      format="YYYY-MM-DD", on_change=_make_custom,
                      help=reach)
    top[3].segmented_control("Granularity", list(GRANULARITIES), key=KEYS["granularity"],
                             format_func=GRANULARITIES.__getitem__, selection_mode="single")
    row = st.columns(4)
    row[0].multiselect("Country", options["countries"], key=KEYS["countries"],
                       placeholder="All countries")
    row[1].multiselect("Channel", options["channels"], key=KEYS["channels"],
                       placeholder="All channels",
                       help="Narrows the sales figures; customer counts include every order.")
    row[2].multiselect("Category", options["categories"], key=KEYS["categories"],
                       placeholder="All categories",
                       help="Narrows the sales figures; customer counts include every order.")
    row[3].selectbox("Saved segment", [None, *segment_names], key=KEYS["segment"],
                     placeholder=ANY_SEGMENT,
                     format_func=lambda key: ANY_SEGMENT if key is None else segment_names[key])
    st.caption(reach)
    first, last = st.session_state[KEYS["first"]], st.session_state[KEYS["last"]]
    if custom:
        problem = kpi_view.custom_problem(first, last, today)
        if problem:
            st.warning(problem)
            return None
    return kpi_view.View(
        period=st.session_state[KEYS["period"]], first=first if custom else None,
        last=last if custom else None,
        granularity=st.session_state[KEYS["granularity"]] or kpi_view.View.granularity,
        countries=tuple(st.session_state[KEYS["countries"]]),
        channels=tuple(st.session_state[KEYS["channels"]]),
        categories=tuple(st.session_state[KEYS["categories"]]),
        segment_id=st.session_state[KEYS["segment"]])


def _tiles(board: kpi_board.Dashboard) -> None:
    shown = tiles(board)
    for start in range(0, len(shown), 4):
        for column, tile in zip(st.columns(4), shown[start:start + 4], strict=False):
            with column:
                st.metric(tile.label, tile.value, delta=tile.delta, help=tile.help,
                          delta_color="inverse" if tile.lower_is_better else "normal",
                          border=True)
                st.caption(tile.year)


def _download(download: kpi_board.Download | None, what: str) -> None:
    """The rows as CSV in euros, named by what and when (see kpi_board.csv_download)."""
    if download is not None:
        st.download_button("Download the data (CSV)", download.data,
                           file_name=download.file_name, mime="text/csv", key="csv_" + what)


def _chart(title: str, drawn: Drawn, what: str, empty: str) -> None:
    """A chart with its rows as a CSV download, or a clear note when there is nothing."""
    st.subheader(title)
    if drawn.spec is None:
        st.info(empty)
        return
    st.vega_lite_chart(spec=drawn.spec, width="stretch")
    _download(drawn.download, what)


def _sales(drawn: dict[str, Drawn], granularity: str) -> None:
    by = f"-by-{granularity}"
    left, right = st.columns(2)
    for column, measure, title in ((left, "revenue_cents", "Revenue"),
                                   (right, "orders", "Orders")):
        with column:
            _chart(title, drawn[measure], measure.removesuffix("_cents") + by,
                   "No orders in this period.")
    st.caption("Dashed: the previous period of equal length, laid over this one. Faint, with "
               "a hollow point: a partial bucket — cut by the period's start or end, or not "
               "over yet — whose days the tooltip names.")
    left, right = st.columns(2)
    with left:
        _chart("Revenue by category", drawn["revenue-by-category"], "revenue-by-category",
               "No orders in this period.")
    with right:
        _chart("Revenue by channel", drawn["revenue-by-channel"], "revenue-by-channel",
               "No orders in this period.")


def _customers(board: kpi_board.Dashboard, drawn: dict[str, Drawn], granularity: str,
               today: date, anchor: date) -> None:
    left, right = st.columns(2)
    with left:
        _chart("New and returning customers", drawn["new-and-returning"],
               f"new-and-returning-by-{granularity}", "No customer ordered in this period.")
    with right:
        _chart("Customers by country", drawn["customers-by-country"], "customers-by-country",
               "No customer ordered in this period.")
    cohorts = board.customers.cohorts
    _chart("Cohort retention", drawn["cohort-retention"], "cohort-retention",
           "No customer placed a first order in this period's months that are over.")
    if cohorts["share"].isna().any():
        st.caption("Months not over yet are left empty.")
    # The grid takes the wider column, so that its group names fit their cells.
    left, right = st.columns([3, 2])
    with left:
        scored = "today" if anchor == today else f"as of {anchor:%d %b %Y}"
        _chart(f"RFM grid ({scored})", drawn["rfm-grid"], "rfm-grid",
               "No customer has ordered yet.")
        if anchor != today:
            st.caption(f"Recency is counted back from the newest order, {anchor:%d %b %Y}, "
                       "not from today.")
    with right:
        if not board.rfm.empty:
            st.subheader("RFM groups")
            groups = (board.rfm.groupby("group", as_index=False)[["customers"]].sum()
                      .sort_values("customers", ascending=False))
            st.dataframe(groups, hide_index=True, width="stretch", column_config={
                "group": "Group", "customers": st.column_config.NumberColumn(
                    "Customers", format="localized")})
    _top(board.top_customers, drawn["top-customers"])


def _engagement(board: kpi_board.Dashboard, drawn: dict[str, Drawn], granularity: str) -> None:
    left, right = st.columns(2)
    with left:
        _chart("NPS over time", drawn["nps"], f"nps-by-{granularity}",
               "No survey answers in this period.")
    with right:
        kinds = board.engagement.interactions
        st.subheader("Contacts by kind")
        if not kinds:
            st.info("No contacts in this period.")
            return
        st.dataframe(pd.DataFrame({"kind": list(kinds), "contacts": list(kinds.values())}),
                     hide_index=True, width="stretch", column_config={
                         "kind": "Contact kind", "contacts": st.column_config.NumberColumn(
                             "Contacts", format="localized")})


def _top(top: pd.DataFrame, drawn: Drawn) -> None:
    st.subheader("Top 20 customers by revenue in the period")
    if top.empty:
        st.info("No customer spent anything in this period.")
        return
    shown = top.assign(name=top["first_name"] + " " + top["last_name"],
                       revenue=top["revenue_cents"] / 100,
                       profile=[f"/customer?customer={i}" for i in top["customer_id"]])
    st.dataframe(shown[["customer_id", "name", "country", "revenue", "orders", "profile"]],
                 hide_index=True, width="stretch", height=35 * (len(shown) + 1) + 3,
                 column_config={
                     "customer_id": st.column_config.NumberColumn("Id", format="%d"),
                     "name": "Name", "country": "Country",
                     "revenue": st.column_config.NumberColumn("Revenue (EUR)", format="%.2f"),
                     "orders": "Orders",
                     "profile": st.column_config.LinkColumn("Profile", display_text="Open")})
    _download(drawn.download, "top-customers")


def main() -> None:
    user = require_page(Capability.VIEW_KPIS, "the KPI dashboard")
    st.title("KPIs")
    today = utcnow().date()
    version = kpi_board.data_version()
    options = _options(user.role, user.username, version)
    segment_names = _segments(user.role, user.username, version)
    days = _order_days(user.role, user.username, version)
    anchor = as_of(today, days.last if days else None)
    _start_from_link(today, anchor, options, segment_names)
    for note in st.session_state.get("kpi_notes", []):
        st.warning(plain(note))
    if anchor != today:
        st.info(f"Your newest order is from {anchor:%d %b %Y}; periods end there, and the "
                "RFM grid counts from it. Choose Custom dates for other days.")
    view = _choices(today, anchor, days, options, segment_names)
    if view is None:
        return
    st.query_params.from_dict(kpi_view.to_params(view) | _tab_param())
    with st.spinner("Computing the figures…"):
        shown = kpi_figures.figures(user.actor, view, today=today, anchor=anchor,
                                    version=version)
    if not isinstance(shown, kpi_figures.Figures):  # its segment was deleted, or is broken
        st.error(plain(shown))
        return
    board = shown.board
    period = board.period
    st.caption(f"{period.first:%d %b %Y} – {period.last:%d %b %Y} (UTC), "
               f"{counted(period.days, 'day')}; "
               f"compared with {period.previous().first:%d %b %Y} – "
               f"{period.previous().last:%d %b %Y}.")
    if not (board.sales.orders or board.sales.refunds or board.customers.counts.active
            or board.engagement.answers or board.engagement.interactions):
        st.info("No orders, answers or contacts in this period for these filters. "
                "Choose a longer period or fewer filters.")
    _tiles(board)
    sales, customers, engagement, predictions = st.tabs(TABS, key=KEYS["tab"],
                                                        on_change="rerun")
    # Only the open tab runs, so the browser draws its charts alone (see the module).
    if sales.open:
        with sales:
            _sales(shown.drawn, view.granularity)
    if customers.open:
        with customers:
            _customers(board, shown.drawn, view.granularity, today, anchor)
    if engagement.open:
        with engagement:
            _engagement(board, shown.drawn, view.granularity)
    if predictions.open:
        with predictions:
            predictions_section(user, version)
    kpi_figures.warm_segments(user.actor, version, today=today, anchor=anchor)


main()
