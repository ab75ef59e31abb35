"""Tables derived from the operational data, kept current by the write services in the same
transaction as each change: the per-customer summary (``summary``) that segments and KPIs
read. ``python -m db.derived rebuild|check`` recomputes or checks it together with the KPI
tables of :mod:`db.kpi`.
"""
