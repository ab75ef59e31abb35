"""A page that shows what it has at once and fills in a figure computed in the background.

Figures that take seconds over a million customers (the KPI outlook, the data-quality check,
the row counts of the Database page) are computed in a background thread; the page renders
everything else and places :func:`rerun_when` where the figure will appear. It asks every
:data:`POLL_S` seconds whether the figure is ready and then runs the whole page again, which
now draws it; nothing else on the page runs while it waits.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

POLL_S = 1.5  # how often a page waiting for a figure asks whether it is ready


@st.fragment(run_every=POLL_S)
def rerun_when(ready: Callable[[], bool]) -> None:
    """Run the whole page again as soon as ``ready()`` says the figure can be drawn."""
    if ready():
        st.rerun()
