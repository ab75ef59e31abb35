"""Every table derived from the operational data, and the one hook that keeps them current.

``models`` declares them: the per-customer summary that segments and the KPI page read, and
the KPI page's small tables. ``summary`` computes the summary rows; ``kpi_tables`` keeps the
KPI tables (``summed_cells`` and the ``*_cells`` modules for sums per day, month or recency,
``buyer_cells`` for who ordered when); ``search_index`` holds the lookup's trigram index of
normalised text (FTS5 on SQLite, pg_trgm on PostgreSQL) and the words of each name. Every
write service calls ``hook.customers_changed`` so that all of them move in the same
transaction as its change;
``python -m db.derived rebuild|check`` recomputes or checks them all.

Nothing here reads a feature package: features read these tables, never the other way round.
"""
