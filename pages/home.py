"""Home: who is signed in, and what the database holds."""

from __future__ import annotations

import streamlit as st

from dashboard import kpi_figures
from dashboard.access import require_page
from dashboard.text import format_when
from db.core.access import Actor, Capability
from db.core.engine import database_url, get_engine
from db.customers.overview import Overview, database_overview
from db.kpi.board import data_version
from db.predict.outlook import warm_outlook
from db.segments import preview


@st.cache_data(ttl=600, max_entries=20, show_spinner=False)
def _overview(role: str, username: str, url: str, version: tuple[int, ...]) -> Overview:
    """The figures, cached per data version: any write (an import too) shows at the next
    click, and nothing is counted again while nothing changed."""
    return database_overview(Actor(username, role), engine=get_engine(url))


def main() -> None:
    user = require_page(None, "Home")
    st.title("Home")
    # st.text, not Markdown: a display name is typed by people and shown as typed.
    welcome = f"Welcome, {user.display_name}. Signed in as {user.username} · role: {user.role}"
    st.text(welcome)
    url = database_url()
    version = data_version(engine=get_engine(url))
    overview = _overview(user.role, user.username, url, version)
    columns = st.columns(4)
    columns[0].metric("Customers", f"{overview.customers:,}")
    columns[1].metric("Orders", f"{overview.orders:,}")
    columns[2].metric("Interactions", f"{overview.interactions:,}")
    last_order = overview.last_order_at
    columns[3].metric("Last order", "—" if last_order is None else f"{last_order:%Y-%m-%d}",
                      help=None if last_order is None else format_when(last_order))
    st.caption(f"Last customer record change: {format_when(overview.last_customer_change_at)}.")
    if overview.customers == 0:
        st.info("The database has no customers yet. `make run` loads demo data into an empty "
                "database; `python -m db.demo --customers 5000` does it by hand.")
    _warm(user.actor, version, url)


def _warm(actor: Actor, version: tuple[int, ...], url: str) -> None:
    """Start computing, in the background, what the pages this role opens next need first
    and takes seconds at a million customers: the KPI page's first view and predictions
    outlook, the segment builder's all-customers side. Started after this page is drawn, so
    that it does not hold up its own figures."""
    engine = get_engine(url)
    if actor.can(Capability.VIEW_KPIS):
        kpi_figures.warm(actor, version, engine=engine)
        warm_outlook(actor, version, engine=engine)
    if actor.can(Capability.SEGMENTS):
        preview.warm_population(actor, version, engine=engine)


main()
