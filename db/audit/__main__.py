"""``python -m db.audit verify``: walk the audit trail's hash chain and name the first event
that no longer fits (exit status 1)."""

from db.audit import trail

if __name__ == "__main__":
    raise SystemExit(trail.main())
