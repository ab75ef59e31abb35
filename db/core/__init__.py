"""Shared building blocks every feature stands on: the environment, read in one place
(``settings``), the engine and the two kinds of session (``engine``), SQL pieces that behave
alike on both engines (``sql``), column types that do too (``types``), the role table every
service call checks (``access``), the one parser of typed amounts and of currency codes
(``money``), the errors a refused value raises (``fields``) and fast bulk loading of
validated rows (``bulk``). Nothing here knows about customers, orders or KPIs.
"""
