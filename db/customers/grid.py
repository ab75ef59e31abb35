"""The Lookup grid's save: many customers' edited rows at once, each against the version
the grid showed, valid rows in one transaction and the others returned with their reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm.exc import StaleDataError

from db.audit.search import field_changes
from db.core.access import Actor
from db.core.engine import write_session
from db.core.types import utcnow
from db.customers.service import (
    CustomerNotFound,
    DuplicateEmail,
    StaleRecord,
    apply_fields,
    load_for_edit,
    require_fields,
)
from db.customers.tags import TagEdit, replace_tags, tags_of
from db.customers.validation import InvalidFields, clean_customer_fields
from db.models import lock_customers


@dataclass
class GridResult:
    """What a many-row save did: rows saved, and the reason for each refused row."""

    saved: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    stale: list[int] = field(default_factory=list)  # refused: saved by someone else meanwhile


def update_many(actor: Actor, rows: list[tuple[int, int, dict[str, Any]]], *,
                source: str = "grid", engine: Engine | None = None) -> GridResult:
    """Save many edited rows, each ``(customer id, version seen, changes)``; ``changes`` may
    hold ``"tags"`` (a :class:`TagEdit`) beside customer fields.

    Every row is validated; the valid ones are saved together in one transaction and the
    others are returned with their reason, so the page can keep them as typed. A row whose
    customer was saved by someone else since ``version`` is refused (and listed in
    ``stale``) with what they changed, so no one's change is overwritten unseen; tags are
    applied as a change to the customer's current ones, so tags added meanwhile stay.
    """
    require_fields(actor, {name for _, _, changes in rows for name in changes})
    result = GridResult()
    with write_session(engine) as session:
        lock_customers(session, [customer_id for customer_id, _, _ in rows])
        for customer_id, version, changes in rows:
            changes = dict(changes)
            tag_edit: TagEdit | None = changes.pop("tags", None)
            try:
                with session.begin_nested():
                    customer = load_for_edit(session, customer_id, version)
                    cleaned = clean_customer_fields(changes, country_of_record=customer.country,
                                                    today=utcnow().date())
                    wanted = None if tag_edit is None else tag_edit.applied_to(
                        tags_of(session, [customer_id])[customer_id])
                    changed = apply_fields(session, actor, customer, cleaned, source)
                    if wanted is not None:
                        changed |= replace_tags(session, actor=actor.username,
                                                customer_id=customer_id, wanted=wanted,
                                                source=source)
                    if changed:
                        result.saved.append(customer_id)
            except InvalidFields as error:
                result.refused[customer_id] = "; ".join(
                    f"{name}: {message}" for name, message in error.errors.items())
            except StaleRecord as error:
                result.refused[customer_id] = _saved_meanwhile(error)
                result.stale.append(customer_id)
            except (CustomerNotFound, DuplicateEmail) as error:
                result.refused[customer_id] = str(error)
            except StaleDataError:
                result.refused[customer_id] = "Someone else saved this customer meanwhile."
                result.stale.append(customer_id)
    return result


def _saved_meanwhile(conflict: StaleRecord) -> str:
    """A grid row's refusal when someone saved the customer since it was listed: who, and
    the values they left, as the grid shows them after it (theirs, with the typed on top)."""
    who = ", ".join(sorted({event.actor for event in conflict.changes})) or "Someone"
    latest: dict[str, Any] = {}
    for event in reversed(conflict.changes):  # oldest first: the newest value wins
        latest.update({change.field: change.new for change in field_changes(event)})
    now = "; ".join(f"{name} is now {value if value not in (None, '') else '(empty)'}"
                    for name, value in latest.items())
    return (f"{who} saved this customer after the list was shown" + (f": {now}" if now else "")
            + ". Your typed values are kept over theirs: save again to keep yours.")
