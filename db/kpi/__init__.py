"""The KPI page's figures (``metrics``, each defined in its docstring) and the small tables they
read instead of the raw rows (``tables`` keeps them current: ``summed_cells`` and the
``*_cells`` modules for sums per day, month or recency, ``buyer_cells`` and ``buyer_sets`` for
who ordered when), the top customers from upper bounds (``top``) and one page's queries on one
connection (``scope``).
"""
