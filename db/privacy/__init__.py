"""The customers' rights over the data custdb holds about them (GDPR art. 15-18, CCPA),
admins only and each audited; callers import the module they need.

- ``access_request``: the right of access — one zip of everything held about one customer
  (live, soft-deleted or erased alike), each part as JSON and as formula-safe CSV, with a
  README saying what each file is.
- ``erasure``: the right to be forgotten — personal fields anonymised for good, the orders
  kept under a pseudonym, the person's values redacted from the audit trail, the e-mail put
  on the suppression list.
- ``retention``: who has been inactive longer than the retention period, and their bulk
  anonymisation.
"""
