"""Tables derived from the operational data: the per-customer summary (``summary``) that
segments and KPIs read, beside the KPI tables of :mod:`db.kpi` and the search index of
:mod:`db.search`. Every write service keeps all of them current through one hook
(``hook.customers_changed``) in the same transaction as its change; ``python -m db.derived
rebuild|check`` recomputes or checks them all.
"""
