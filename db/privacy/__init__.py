"""The customers' rights over the data custdb holds about them (GDPR art. 15-18, CCPA),
admins only and each audited; callers import the module they need.

- ``access_request``: the right of access — one zip of everything held about one customer
  (live, soft-deleted or erased alike), each part as JSON and as formula-safe CSV, with a
  README saying what each file is.
- erasure: the right to be forgotten — personal fields anonymised for good (added by the
  erasure work of issue 17).
- restriction: a customer marked "do not contact" / "restricted", left out of every export.
"""
