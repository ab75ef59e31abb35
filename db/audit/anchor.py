"""Anchors: signed checkpoints of the audit chain's newest event, kept outside the database.

The chain alone cannot show that events were cut from its end, nor that its whole keyed
tail was replaced: an anchor can. It names one event (id, hash, time) and carries an
HMAC over them made with the audit key, so nobody without the key can write one, and the
fingerprint of that key (:func:`db.audit.keys.key_id`), so a wrong key is told apart from an
altered anchor. Keep it where the database's writers cannot change it (a ticket, an
e-mail, another machine); :func:`db.audit.trail.verify` checks the chain against it.

The text is one JSON object, e.g.::

    {"format": "custdb-audit-anchor/1", "event_id": 812, "hash": "9f…", "at":
     "2026-12-01T11:00:00.000000+00:00", "taken_at": "…", "key_id": "3a…", "mac": "…"}
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from db.audit.keys import key_id

FORMAT = "custdb-audit-anchor/1"


class AnchorError(ValueError):
    """The anchor cannot be used: not an anchor, or signed with another key (the message
    says which). An anchor whose signature fails is :class:`AnchorForged` instead."""


class AnchorForged(AnchorError):
    """The anchor's signature does not match its content under the right key: it was
    altered or made without the key."""


@dataclass(frozen=True)
class Anchor:
    event_id: int
    hash: str
    at: str  # the event's time, UTC ISO text to the microsecond
    taken_at: str
    key_id: str
    mac: str

    def to_text(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, indent=1)


def _mac(key: str, event_id: int, event_hash: str, at: str, taken_at: str) -> str:
    message = json.dumps([FORMAT, event_id, event_hash, at, taken_at], separators=(",", ":"))
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def sign(key: str, *, event_id: int, event_hash: str, at: datetime,
         taken_at: datetime) -> Anchor:
    """An anchor for the event ``event_id`` with hash ``event_hash`` written at ``at``."""
    return Anchor(event_id, event_hash, iso(at), iso(taken_at), key_id(key),
                  _mac(key, event_id, event_hash, iso(at), iso(taken_at)))


def parse(text: str, key: str) -> Anchor:
    """The anchor in ``text``, its signature checked with ``key``.

    Raises :class:`AnchorError` when the text is no anchor or was signed with another key,
    :class:`AnchorForged` when its content does not match its signature."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise AnchorError("This is not a custdb audit anchor.")
        anchor = Anchor(int(data["event_id"]), str(data["hash"]), str(data["at"]),
                        str(data["taken_at"]), str(data["key_id"]), str(data["mac"]))
    except (ValueError, KeyError, TypeError) as error:
        if isinstance(error, AnchorError):
            raise
        raise AnchorError(f"This is not a readable custdb audit anchor ({error}).") from None
    if anchor.key_id != key_id(key):
        raise AnchorError(
            f"The anchor was signed with another audit key (fingerprint {anchor.key_id}; the "
            f"configured key's is {key_id(key)}): configure the key it was taken with.")
    expected = _mac(key, anchor.event_id, anchor.hash, anchor.at, anchor.taken_at)
    if not hmac.compare_digest(expected, anchor.mac):
        raise AnchorForged("The anchor's signature does not match its content: the anchor "
                           "was altered or not made with the audit key.")
    return anchor
