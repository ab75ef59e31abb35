"""Consent columns of a customer file: one optional column per purpose.

A cell says yes (``yes``, ``true``, ``1``, ``granted``, ``ja``, ``y``) or no (``no``,
``false``, ``0``, ``withdrawn``, ``nein``, ``n``), in any letter case; an empty cell says
nothing. Any other value is a row problem. A statement becomes a new ``consent_event`` row
(source ``import``, the import's notice version, recorded by the importing user) only when
it differs from the customer's current state, so importing the same file again appends
nothing; a customer never asked has no state, so any statement about them is recorded (a
refusal is evidence too). Nothing is ever changed or removed: the history is append-only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from db.core.sql import table_of
from db.imports.lookup import batches
from db.models import CONSENT_PURPOSES, ConsentEvent

CONSENT = table_of(ConsentEvent)
# The import field of each purpose.
FIELD_OF = {purpose: "consent_" + purpose for purpose in CONSENT_PURPOSES}
PURPOSE_OF = {field: purpose for purpose, field in FIELD_OF.items()}
_YES = ("yes", "true", "1", "granted", "ja", "y")
_NO = ("no", "false", "0", "withdrawn", "nein", "n")
_WORDS = {**dict.fromkeys(_YES, True), **dict.fromkeys(_NO, False)}


def mapped(mapping: dict[str, str | None]) -> bool:
    """Whether ``mapping`` feeds any consent column."""
    return any(mapping.get(field) for field in PURPOSE_OF)


def statements(raw: dict[str, Any]) -> tuple[dict[str, bool], dict[str, str]]:
    """Take the consent cells out of a row's given cells: purpose → granted, and a message
    per field whose value is not a yes or a no."""
    stated, errors = {}, {}
    for field, purpose in PURPOSE_OF.items():
        if field not in raw:
            continue
        text = str(raw.pop(field))
        value = _WORDS.get(text.strip().lower())
        if value is None:
            errors[field] = (f"{text!r} is not a consent value: write yes or no (also "
                             "true/false, 1/0, granted/withdrawn), or leave the cell empty.")
        else:
            stated[purpose] = value
    return stated, errors


def current_states(session: Session, customer_ids: set[int]) -> dict[int, dict[str, bool]]:
    """Each stored customer's current consent per purpose (purposes never asked left out):
    the newest row, ties broken by the later id, as the summary derives it."""
    found: dict[int, dict[str, bool]] = {}
    for batch in batches(sorted(customer_ids)):
        rows = session.execute(
            select(CONSENT.c.customer_id, CONSENT.c.purpose, CONSENT.c.granted)
            .where(CONSENT.c.customer_id.in_(batch))
            .order_by(CONSENT.c.customer_id, CONSENT.c.purpose, CONSENT.c.at, CONSENT.c.id))
        for customer_id, purpose, granted in rows:
            found.setdefault(customer_id, {})[purpose] = bool(granted)  # the newest wins
    return found


def changes(customer_id: int, stated: dict[str, bool], current: dict[str, bool], *,
            notice_version: str, now: datetime
            ) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    """The consent rows to append for one customer (those stated differently from now), and
    the audit's ``[old, new]`` per consent field (old None: never asked)."""
    rows, note = [], {}
    for purpose, granted in sorted(stated.items()):
        if current.get(purpose) is granted:
            continue
        rows.append({"customer_id": customer_id, "purpose": purpose, "granted": granted,
                     "at": now, "source": "import", "notice_version": notice_version})
        note[FIELD_OF[purpose]] = [current.get(purpose), granted]
    return rows, note
