"""The KPI page's figures and the small tables they read instead of the raw rows.

Figures, each module defining its own in its docstring: ``periods`` (the days a figure
covers, and the buckets of a time series), ``filters`` (what narrows them), ``sales``,
``engagement`` (NPS and contacts), ``customers`` (active, returning, churn, cohorts), ``rfm``
(the RFM grid and lifetime value), ``top`` (the top customers, from upper bounds) and
``board`` (every figure of the page in one call, and its CSV downloads). ``scope`` runs one
page's queries on one connection.

Tables: ``tables`` keeps them current: ``summed_cells`` and the ``*_cells`` modules for sums
per day, month or recency, ``buyer_cells`` and ``buyer_sets`` for who ordered when.
"""
