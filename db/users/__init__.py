"""Staff accounts: sign-in with growing delays after failures, sign-in sessions that can be
revoked, and user management for admins (``service``, also ``python -m db.users add|list``);
``passwords`` hashes passwords and holds the password policy.
"""
