"""The profile's prediction scores: probability active, expected purchases in the next 90
days and 12-month value, each with the service's one-line explanation, and how old the fit
is. Customers without a score (no fit yet, added since the fit) get a sentence instead."""

from __future__ import annotations

import streamlit as st

from dashboard.navigation import PAGES_DIR
from dashboard.text import plain
from db.core.access import Capability
from db.predict.scores import NOT_SCORED, customer_scores
from db.predict.service import FitInfo, latest_fit
from db.users.service import UserView

PREDICTIONS_PAGE = PAGES_DIR / "predictions.py"
NO_FIT = "No predictions yet: the model has not been fitted."


def fit_line(fit: FitInfo) -> str:
    """"Scores fitted 12 days ago (2026-11-19, orders up to 2026-11-18)."."""
    return (f"Scores {fit.age_text()} ({fit.fitted_at:%Y-%m-%d}, orders up to "
            f"{fit.as_of:%Y-%m-%d}).")


def refit_hint(user: UserView) -> None:
    """Where an admin refits (others are told who can)."""
    if user.actor.can(Capability.ADMINISTER):
        st.page_link(str(PREDICTIONS_PAGE), label="Fit the model on the Predictions page",
                     icon=":material/model_training:")
    else:
        st.caption("An admin fits the model on the Predictions page.")


def predictions_panel(user: UserView, customer_id: int) -> None:
    """The three scores of ``customer_id`` from the newest fit, or why there are none."""
    with st.container(border=True):
        fit = latest_fit(user.actor)
        if fit is None:
            st.caption("Predictions")
            st.info(NO_FIT)
            refit_hint(user)
            return
        scores = customer_scores(user.actor, customer_id)
        if scores is None:  # added after the fit
            st.caption("Predictions · " + plain(fit_line(fit)))
            st.info(plain(NOT_SCORED))
            return
        st.caption("Predictions · " + plain(fit_line(fit)))
        columns = st.columns(3)
        columns[0].metric("Probability active", "—" if scores.p_alive is None
                          else f"{scores.p_alive:.0%}")
        columns[1].metric("Expected purchases (90 days)",
                          "—" if scores.expected_purchases_90d is None
                          else f"{scores.expected_purchases_90d:.2f}")
        columns[2].metric("12-month value", "—" if scores.value_12m is None
                          else f"€{scores.value_12m:,.2f}")
        texts = (scores.p_alive_text, scores.purchases_text, scores.value_text)
        if len(set(texts)) == 1:  # no purchase: one reason for all three
            st.caption(plain(texts[0]))
            return
        for column, text in zip(columns, texts, strict=True):
            column.caption(plain(text))
