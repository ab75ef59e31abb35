"""Realistic, deterministic demo data (``python -m db.demo``): the generator and loader
(``loader``) and the words it draws from (``vocabulary``).
"""
