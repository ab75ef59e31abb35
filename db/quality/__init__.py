"""Data quality: what is missing, invalid or stale in the live customers' records, and the
lists behind each figure; callers import the module they need.

- ``report``: the completeness and validity report (share of missing values per field,
  e-mails and phones the normalisers of :mod:`db.customers.validation` refuse, impossible
  birth dates, records not updated for longer than the stale threshold) and the customers
  behind each count (:func:`~db.quality.report.customers_with`).
- ``lists``: one of those lists as a file (the one export policy of :mod:`db.exports`) or
  as a static segment for a re-permission campaign.
"""
