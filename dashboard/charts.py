"""Chart builders: a DataFrame in, an Altair chart out — no Streamlit, so unit-testable."""

from __future__ import annotations

import altair as alt
import pandas as pd

SPEND_COLOUR = "#2f6f8f"


def build_spend_chart(orders: pd.DataFrame) -> alt.Chart:
    """Monthly spend of one customer: ``orders`` has ``ordered_at`` (UTC) and ``amount``.

    Aggregated to months here, so the chart never receives one point per order.
    """
    monthly = (orders.assign(month=orders["ordered_at"].dt.tz_convert("UTC").dt.tz_localize(None)
                             .dt.to_period("M").dt.to_timestamp(),
                             amount=orders["amount"].astype(float))
               .groupby("month", as_index=False)
               .agg(spend=("amount", "sum"), orders=("amount", "size")))
    return alt.Chart(monthly).mark_bar(color=SPEND_COLOUR).encode(
        x=alt.X("yearmonth(month):T", title="Month"),
        y=alt.Y("spend:Q", title="Spend (EUR)"),
        tooltip=[alt.Tooltip("yearmonth(month):T", title="Month"),
                 alt.Tooltip("spend:Q", title="Spend", format=",.2f"),
                 alt.Tooltip("orders:Q", title="Orders")],
    ).properties(height=220)
