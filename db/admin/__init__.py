"""The admin's operations on the installation itself: ``settings`` (company name, house
currency, the stale-record and retention thresholds, the sign-in delay policy), stored in
the database (``models``), read by every service that follows them and changed by admins
only, audited.
"""
