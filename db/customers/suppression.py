"""The suppression list: people whose data was erased must not come back unnoticed.

An erasure removes the address from every table, so nothing would stop the next import or a
colleague's new-customer form from adding the person again. The list keeps only a keyed
hash (HMAC-SHA256 with the installation's audit key, which lives outside the database) of
the normalised address: the database alone cannot tell whose address it was, yet the same
address typed again is recognised, and the form or the import says why it refuses it. If
the person later asks to become a customer again, an admin lifts the block (audited).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select
from sqlmodel import Session, col

from db.audit import keys, trail
from db.core.access import Actor, Capability, require
from db.core.engine import write_session
from db.core.types import utcnow
from db.customers.validation import InvalidValue, normalise_email
from db.models import SuppressedEmail

# What a form or an import says when it meets a suppressed address.
REFUSAL = ("This e-mail address belongs to a person whose data was erased at their request "
           "on {since:%Y-%m-%d}; custdb does not add them again. If they ask to become a "
           "customer again, an admin can lift the block on the Privacy page.")


def email_key(email: str) -> str | None:
    """The keyed hash of ``email`` as the list stores it; None for a value that is not an
    address (nothing to suppress)."""
    try:
        normal = normalise_email(email).casefold()
    except InvalidValue:
        return None
    secret = keys.audit_key(create=True).encode()
    return hmac.new(secret, b"suppressed-email:" + normal.encode(), hashlib.sha256).hexdigest()


def suppressed_since(session: Session, emails: Iterable[str]) -> dict[str, datetime]:
    """Of ``emails``, those on the list, each with the day it was added."""
    by_key = {key: email for email in emails if email and (key := email_key(email))}
    if not by_key:
        return {}
    found = session.execute(select(col(SuppressedEmail.email_hash), col(SuppressedEmail.since))
                            .where(col(SuppressedEmail.email_hash).in_(list(by_key))))
    return {by_key[key]: since for key, since in found}


def suppress(session: Session, email: str, *, reason: str) -> bool:
    """Put ``email`` on the list in the caller's transaction; False when it already was or
    is not an address."""
    key = email_key(email)
    if key is None or session.get(SuppressedEmail, key) is not None:
        return False
    session.execute(insert(SuppressedEmail).values(email_hash=key, since=utcnow(),
                                                    reason=reason))
    return True


def lift(actor: Actor, email: str, *, engine: Engine | None = None) -> bool:
    """Take ``email`` off the list (admins only), when the person asks to be added again;
    False when it was not on it. The audit event names the hash, never the address."""
    require(actor, Capability.ADMINISTER)
    key = email_key(email)
    if key is None:
        raise InvalidValue(f"{email.strip()!r} is not a valid email address.")
    with write_session(engine) as session:
        listed = session.get(SuppressedEmail, key)
        if listed is None:
            return False
        session.execute(delete(SuppressedEmail).where(col(SuppressedEmail.email_hash) == key))
        trail.record(session, actor=actor.username, action="suppression.lift",
                     entity="suppression", entity_id=key[:16],
                     changes={"since": listed.since}, source="form")
        return True
