"""Target groups: the definition language (``definition``), its compiler into one SQLAlchemy
query with bound values only (``compiler``), and saved segments with preview, size history,
overlap and exports (``service``).
"""
