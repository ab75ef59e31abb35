"""The database panel's services: backups and facts about the database.

``copy`` writes a consistent copy of a live SQLite database with SQLite's online backup API
(``python -m db.backup``), or says which ``pg_dump`` command backs up PostgreSQL; ``facts``
reports the engine, size, row counts, schema revision and newest backup, and checks the
audit chain when asked. Every call is for admins only (``Capability.ADMINISTER``).
"""
