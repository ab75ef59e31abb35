"""Customer tags (interests, labels): reading them in bulk and replacing them in a
transaction the caller owns, so the profile and the grid save them the same way."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from db.audit import trail
from db.customers.validation import InvalidFields, InvalidValue, check_text
from db.models import CustomerTag, Tag

MAX_TAGS = 30
TAG_LENGTH = 50


def clean_tags(names: Iterable[str]) -> list[str]:
    """Trimmed, lower-case, unique and sorted; :class:`InvalidFields` when too many or long."""
    wanted = sorted({name.strip().lower() for name in names if name.strip()})
    try:
        for name in wanted:
            check_text(name)
    except InvalidValue as error:
        raise InvalidFields({"tags": f"Tag {name!r}: {error}"}) from None
    if len(wanted) > MAX_TAGS or any(len(name) > TAG_LENGTH for name in wanted):
        raise InvalidFields({"tags": f"At most {MAX_TAGS} tags of at most {TAG_LENGTH} "
                                     "characters each."})
    return wanted


@dataclass(frozen=True)
class TagEdit:
    """Tags as typed over the ones the editor showed: what to add and what to take away.

    Why not the typed list alone: two people tagging one customer from two screens would
    each replace the other's tags; applied as a change, both are kept."""

    seen: tuple[str, ...]
    typed: tuple[str, ...]

    def applied_to(self, current: list[str]) -> list[str]:
        """``current`` with the typed tags added and those removed from the seen ones taken
        away, cleaned (:func:`clean_tags`: too many or too long is refused)."""
        seen, typed = set(clean_tags(self.seen)), set(clean_tags(self.typed))
        return clean_tags((set(current) - (seen - typed)) | (typed - seen))


def tags_of(session: Session, customer_ids: list[int]) -> dict[int, list[str]]:
    """Each customer's tag names (sorted), in one query."""
    result: dict[int, list[str]] = {customer_id: [] for customer_id in customer_ids}
    if customer_ids:
        rows = session.exec(select(CustomerTag.customer_id, Tag.name).join(Tag)
                            .where(col(CustomerTag.customer_id).in_(customer_ids))
                            .order_by(Tag.name))
        for customer_id, name in rows:
            result[customer_id].append(name)
    return result


def replace_tags(session: Session, *, actor: str, customer_id: int, wanted: list[str],
                 source: str) -> bool:
    """Give the customer exactly ``wanted`` (from :func:`clean_tags`), creating new tag
    names; one audit event when the set changes. Returns whether it changed."""
    current = tags_of(session, [customer_id])[customer_id]
    if current == wanted:
        return False
    known = {tag.name: tag for tag in session.exec(
        select(Tag).where(col(Tag.name).in_(wanted)))} if wanted else {}
    for name in wanted:
        if name not in known:
            known[name] = Tag(name=name)
            session.add(known[name])
    session.flush()
    for link in session.exec(select(CustomerTag).where(CustomerTag.customer_id == customer_id)):
        session.delete(link)
    session.flush()
    for name in wanted:
        tag_id = known[name].id
        assert tag_id is not None  # flushed above
        session.add(CustomerTag(customer_id=customer_id, tag_id=tag_id))
    trail.record(session, actor=actor, action="customer.tags", entity="customer",
                 entity_id=customer_id,
                 changes={"tags": [", ".join(current), ", ".join(wanted)]}, source=source)
    return True
