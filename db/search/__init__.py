"""Customer lookup: one box that finds a customer by name, e-mail, phone, reference or id
(``ranking``), from the candidates ``candidates`` reads in the trigram index and the name
words the write services keep in step (:mod:`db.derived.search_index`); ``export`` writes
what a search lists as a file, by the one export policy of :mod:`db.exports`.
"""
