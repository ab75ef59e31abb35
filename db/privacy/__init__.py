"""The customers' rights under GDPR: access (a copy of everything held about a person),
erasure (``erasure``: anonymise for good, keep the orders under a pseudonym, redact the audit
trail, remember the address on the suppression list), restriction and objection, and the
retention rule (``retention``: who has been inactive longer than the setting allows)."""
