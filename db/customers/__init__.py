"""The customer record and what is written about it: create, edit and soft delete (``service``),
the 360° profile and its own writes (``profile``), orders and refunds (``orders``), tags
(``tags``), the validators every write path shares (``validation``) and the home page's
overview (``overview``). Every write here
keeps the derived tables current through :func:`db.derived.hook.customers_changed`.
"""
