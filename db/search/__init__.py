"""Customer lookup: one box that finds a customer by name, e-mail, phone, reference or id
(``ranking``), reading a trigram index of normalised text that the customer services keep in
step (``index``: FTS5 on SQLite, pg_trgm on PostgreSQL); ``export`` writes what a search
lists as a file, by the one export policy of :mod:`db.exports`.
"""
