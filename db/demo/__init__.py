"""Realistic, deterministic demo data (``python -m db.demo``, in ``__main__``).

``generator`` draws what customers do (orders, contacts, answers, consent, cards) as NumPy
arrays a chunk at a time, ``people`` who they are (names, addresses, e-mails), from the words
in ``vocabulary``; ``twins`` computes the derived tables (summary, KPI tables) from those
arrays; ``loader`` writes it all into an empty database in one transaction.
"""
