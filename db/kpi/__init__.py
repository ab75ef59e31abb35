"""The KPI page's figures, read from the derived tables of :mod:`db.derived` instead of the
raw rows.

Each module defines its own figures in its docstring: ``periods`` (the days a figure covers,
and the buckets of a time series), ``filters`` (what narrows them), ``sales``, ``engagement``
(NPS and contacts), ``customers`` (active, returning, churn, cohorts; over ``buyer_sets``, the
customers who ordered in any span), ``rfm`` (the RFM grid and lifetime value), ``top`` (the top
customers, from upper bounds) and ``board`` (every figure of the page in one call, and its CSV
downloads). ``scope`` runs a page's queries on a shared connection, a segment's members worked
out once on it.
"""
