"""The audit trail: every write records who changed what, when and from where in the same
transaction as the change (``trail.record``); events are append-only and hash-chained so that
``trail.verify`` (``python -m db.audit verify``) finds tampering; ``search`` filters, pages and
exports them for the Audit page and a customer's history.
"""
