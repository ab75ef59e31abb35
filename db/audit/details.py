"""An event's details (its ``changes``) sealed apart from its chain link, so that an erasure
can remove a person's values from the trail and the chain still verifies.

The chain (:mod:`db.audit.trail`) hashes every field of an event; a chain over the details
themselves could never lose a value without looking forged. So an event written now stores
a random ``salt`` and ``changes_digest`` = SHA-256 of salt and details, and the chain covers
the digest instead of the details. While the salt is there, :func:`intact` proves the details
are the ones written. An erasure (:mod:`db.audit.redaction`) replaces every value with
:data:`ERASED` and drops the salt: the digest then commits to a value nobody can recover or
guess (the salt was random and is gone), the chain link is unchanged, and the erasure's own
event lists the events it redacted, so a redaction no erasure names shows as tampering.

Events written before details were sealed (``changes_digest`` NULL) keep the old rule: the
chain covers their details, which therefore cannot be redacted.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any, Protocol

ERASED = "[erased]"
# What the chain covers in place of sealed details: never valid JSON, so it cannot be
# mistaken for the details of an event written before sealing.
_DIGEST_PREFIX = "sha256:"
# Events whose details list the events they redacted (``redacted_events``): never redacted.
REDACTING_ACTIONS = frozenset({"customer.erase"})


class Sealed(Protocol):
    @property
    def changes(self) -> str: ...
    @property
    def changes_digest(self) -> str | None: ...
    @property
    def salt(self) -> str | None: ...


def _digest(salt: str, changes: str) -> str:
    return hashlib.sha256((salt + "\n" + changes).encode()).hexdigest()


def seal(changes: str) -> tuple[str, str]:
    """A fresh salt and the digest of ``changes`` under it."""
    salt = secrets.token_hex(16)
    return salt, _digest(salt, changes)


def chained(changes: str, changes_digest: str | None) -> str:
    """What the chain's hash covers for these details: the digest when they are sealed."""
    return changes if changes_digest is None else _DIGEST_PREFIX + changes_digest


def intact(event: Sealed) -> bool:
    """Whether the stored details are the ones written: their digest under the kept salt, or,
    once the salt is gone, exactly the redacted form (every value :data:`ERASED`)."""
    if event.changes_digest is None:
        return True  # the chain itself covers unsealed details
    if event.salt is None:
        return is_redaction(event.changes)
    return _digest(event.salt, event.changes) == event.changes_digest


def redacted(changes: str) -> str:
    """The details with every value replaced by :data:`ERASED`; the field names stay, so the
    trail still says which fields an event touched."""
    return json.dumps(dict.fromkeys(json.loads(changes), ERASED), sort_keys=True)


def is_redaction(changes: str) -> bool:
    try:
        loaded: Any = json.loads(changes)
    except ValueError:
        return False
    return (isinstance(loaded, dict) and all(value == ERASED for value in loaded.values())
            and changes == redacted(changes))


def listed_redactions(action: str, changes: str) -> list[int]:
    """The event ids an erasure event says it redacted (none for any other event)."""
    if action not in REDACTING_ACTIONS:
        return []
    return [int(event_id) for event_id in json.loads(changes).get("redacted_events", [])]
