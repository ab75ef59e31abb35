"""Tags: how typed names are cleaned, who may set them, and one audit event per real change."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from db.core.access import Actor, PermissionDenied
from db.customers import profile
from db.customers.service import CustomerNotFound, soft_delete_customer
from db.customers.tags import MAX_TAGS, TAG_LENGTH, clean_tags
from db.customers.validation import InvalidFields
from db.models import AuditEvent, Tag
from tests import factories
from tests.factories import ADMIN, MANAGER, MARKETING


def test_names_are_trimmed_lowered_unique_and_sorted() -> None:
    assert clean_tags([" VIP", "vip ", "", "  ", "Newsletter", "b2b"]) == [
        "b2b", "newsletter", "vip"]


@pytest.mark.parametrize("names", [
    [f"tag{number}" for number in range(MAX_TAGS + 1)], ["x" * (TAG_LENGTH + 1)],
])
def test_too_many_or_too_long_names_are_refused(names: list[str]) -> None:
    with pytest.raises(InvalidFields) as refused:
        clean_tags(names)
    assert "tags" in refused.value.errors


def _tag_events(engine: Engine) -> list[list[str]]:
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "customer.tags")
                              .order_by(AuditEvent.id)).all()
    return [json.loads(event.changes)["tags"] for event in events]


def test_set_tags_replaces_the_set_and_audits_only_real_changes(engine: Engine) -> None:
    customer = factories.customer(engine)
    other = factories.customer(engine, "Other")
    assert profile.set_tags(MARKETING, customer.id, ["VIP", "newsletter"],
                            engine=engine) == ["newsletter", "vip"]
    profile.set_tags(MARKETING, other.id, ["vip"], engine=engine)
    profile.set_tags(MARKETING, customer.id, ["newsletter", "VIP "], engine=engine)  # same set
    profile.set_tags(MANAGER, customer.id, ["vip"], engine=engine)
    assert profile.tags_for(MARKETING, [customer.id, other.id, 999], engine=engine) == {
        customer.id: ["vip"], other.id: ["vip"], 999: []}
    assert _tag_events(engine) == [["", "newsletter, vip"], ["", "vip"],
                                   ["newsletter, vip", "vip"]]
    with Session(engine) as session:  # one "vip" tag shared by both customers
        assert sorted(tag.name for tag in session.exec(select(Tag))) == ["newsletter", "vip"]


def test_tags_need_the_capability_and_a_live_customer(engine: Engine) -> None:
    customer = factories.customer(engine)
    with pytest.raises(PermissionDenied):
        profile.set_tags(Actor("x", "nobody"), customer.id, ["vip"], engine=engine)
    soft_delete_customer(ADMIN, customer.id, engine=engine)
    with pytest.raises(CustomerNotFound):
        profile.set_tags(MARKETING, customer.id, ["vip"], engine=engine)
    assert _tag_events(engine) == []
