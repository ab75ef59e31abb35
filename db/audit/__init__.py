"""The audit trail: every write records who changed what, when and from where in the same
transaction as the change (``trail.record``); events are append-only and chained by an HMAC
with a key kept outside the database (``keys``), so that ``trail.verify`` (``python -m
db.audit verify``) finds tampering by anyone without the key; ``anchor`` signs checkpoints
kept elsewhere, which show events cut from the end; ``search`` filters, pages and exports
events for the Audit page and a customer's history.
"""
