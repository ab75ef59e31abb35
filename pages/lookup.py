"""Lookup (everyone): find a customer in a second and open their profile.

The search term lives in the URL (``?q=``), so a search can be shared and the back button
returns to it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.access import require_page
from dashboard.navigation import PAGES_DIR
from dashboard.text import plain
from db.access import Capability
from db.engine import database_url
from db.models import CUSTOMER_STATUSES
from db.profile import all_tags
from db.search import SearchFilters, SearchHit, known_countries, search_customers
from db.users import UserView

ANY = "(any)"


@st.cache_data(ttl=300, show_spinner=False)
def _countries(url: str) -> list[str]:
    return known_countries(url)


def _filters(user: UserView) -> SearchFilters:
    left, middle, right = st.columns(3)
    country = left.selectbox("Country", [ANY, *_countries(database_url())])
    status = middle.selectbox("Status", [ANY, *CUSTOMER_STATUSES])
    tag = right.selectbox("Tag", [ANY, *all_tags(user.actor)])
    return SearchFilters(country=None if country == ANY else country,
                         status=None if status == ANY else status,
                         tag=None if tag == ANY else tag)


def _results(hits: list[SearchHit]) -> None:
    frame = pd.DataFrame([{
        "Id": h.customer.id, "Name": f"{h.customer.first_name} {h.customer.last_name}",
        "E-mail": h.customer.email or "", "Phone": h.customer.phone or "",
        "City": h.customer.city or "", "Country": h.customer.country,
        "Status": h.customer.status, "Why": h.reason} for h in hits])
    selection = st.dataframe(frame, hide_index=True, on_select="rerun",
                             selection_mode="single-row", key="lookup_results")
    st.caption("Select a row to open the customer's profile.")
    if selection.selection.rows:
        customer_id = int(frame.iloc[selection.selection.rows[0]]["Id"])
        st.switch_page(str(PAGES_DIR / "customer.py"), query_params={"customer": customer_id})


def main() -> None:
    user = require_page(Capability.LOOKUP, "Lookup")
    st.title("Customer lookup")
    term = st.text_input("Search", value=st.query_params.get("q", ""), max_chars=200,
                         placeholder="Name, e-mail, phone number, reference or id")
    if term != st.query_params.get("q", ""):
        st.query_params["q"] = term
    filters = _filters(user)
    hits = search_customers(user.actor, term, filters)
    if not hits:
        st.info(f"No customer matches {plain(term)!s}." if term else
                "No customer matches these filters.")
        return
    _results(hits)


main()
