"""Data quality: duplicate customers found, scored, reviewed and merged; what is missing,
invalid or stale in the records.

``matching`` is the scorer itself, plain Python over plain records: comparison keys from the
import engine's normalisers, blocking (same e-mail, same E.164 phone, same e-mail name, a name
within the same postcode, city or birth date) and a field-by-field Fellegi–Sunter style score
in 0..1 with the reasons a reviewer reads. ``candidates`` runs it over the live customers as a
service and stores the run (``duplicate_run``, ``duplicate_candidate``), so the review page
reads and never recomputes; ``decisions`` keeps a reviewer's verdicts (``duplicate_decision``:
a pair marked "not the same" never comes back). ``plant`` writes duplicates with known truth
into demo data for the tests and ``bench/duplicates.py``. ``python -m db.quality duplicates``
runs a detection from the command line. ``merge`` joins two records of one person, field by
field, moving every child row to the survivor; ``bulk`` merges many pairs after a preview.
Why a scorer of our own rather than Splink: see
bench/RESULTS.md ("Duplicate detection").

``report`` measures what is missing, invalid or stale in the live customers' records (share
of missing values per field, e-mails and phones the normalisers refuse, impossible birth
dates, records not updated for longer than the stale threshold) with the customers behind
each count; ``lists`` exports such a list (the one policy of :mod:`db.exports`) or saves it
as a static segment for a re-permission campaign.
"""
