"""``python -m db.audit verify [--anchor FILE]``: walk the audit trail's keyed hash chain
and name the first event that no longer fits (exit status 1; 2 when the key is missing or
wrong). ``python -m db.audit anchor [--out FILE]``: a signed checkpoint of its newest event."""

from db.audit import trail

if __name__ == "__main__":
    raise SystemExit(trail.main())
