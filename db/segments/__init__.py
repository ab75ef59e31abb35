"""Target groups, one module per job; callers import the module they need.

- ``definition``: the definition language (JSON checked by pydantic, what every operator
  means, the problems the builder shows beside a condition).
- ``compiler``: a definition as one SQLAlchemy query with bound values only, built from
  ``rows`` (what it is evaluated over), ``comparisons`` (one column against the values) and
  ``windows`` (behaviour within a time window).
- ``membership``: who is in a definition or a saved segment now (references resolved).
- ``service``: saved segments: save, edit, duplicate, delete, and who may change them.
- ``preview``: the builder's count, share, sample and breakdowns, and its pick lists.
- ``sizes``: the list of saved segments with their sizes, size history, overlap.
- ``export``: a saved segment's members as CSV or Excel, audited.
"""
