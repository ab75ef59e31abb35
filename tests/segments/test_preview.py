"""The builder's preview: count, share, emailable members, sample and breakdowns."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import Engine

from db.core.access import Actor, PermissionDenied
from db.customers.orders import record_order
from db.customers.service import create_customer
from db.kpi.board import data_version
from db.segments import preview
from db.segments.definition import Condition, Group
from tests.factories import ADMIN, MANAGER, MARKETING
from tests.segments.common import GERMANS


def test_preview_counts_members_share_and_emailable(engine: Engine, people: dict) -> None:
    shown = preview.preview(MARKETING, GERMANS, engine=engine)
    assert (shown.count, shown.total, shown.emailable) == (3, 4, 2)
    everyone = preview.preview(MARKETING, Group(), engine=engine)
    assert everyone.emailable == 3  # Anna, Ben, Dora: consent and an address
    assert shown.share == pytest.approx(0.75)
    assert list(shown.sample["id"]) == sorted(people[n] for n in ("Anna", "Ben", "Carl"))
    by_country = shown.by_country.set_index("group")
    assert by_country.loc["DE", "members"] == 3 and by_country.loc["FR", "members"] == 0
    assert shown.by_age.set_index("group").loc["unknown", "everyone"] == 4


def test_count_checks_the_role(engine: Engine) -> None:
    with pytest.raises(PermissionDenied):
        preview.count(Actor("x", "nobody"), GERMANS, engine=engine)
    assert preview.count(MANAGER, GERMANS, engine=engine) == 0


def test_an_amount_reads_with_a_comma_as_an_order_does(engine: Engine, people: dict) -> None:
    """One money parser: "12,50" in a definition is what "12,50" on an order is."""
    for first, amount in (("Anna", "12,50"), ("Ben", "12,49")):
        record_order(ADMIN, people[first], amount=amount, category="books", channel="web",
                     product="A book", engine=engine)
    at_least = Group(children=[Condition(field="total_spend", op="ge", value="12,50")])
    assert preview.count(MARKETING, at_least, engine=engine) == 1
    exactly = Group(children=[Condition(field="average_order_value", op="eq", value="12.49")])
    assert preview.count(MARKETING, exactly, engine=engine) == 1


def test_all_customers_are_counted_once_per_data_version_for_every_caller(
        engine: Engine, people: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """The builder's "all customers" side: counted once per data version (not per cache
    expiry or session), ahead in the background, and again after a write."""
    preview.forget_populations()
    counted = []
    count_now = preview._population
    monkeypatch.setattr(preview, "_population",
                        lambda *arguments: counted.append(1) or count_now(*arguments))
    version = data_version(engine=engine)
    preview.warm_population(MARKETING, version, engine=engine)
    first = preview.population(MARKETING, version=version, engine=engine)
    again = preview.population(MANAGER, version=version, engine=engine)
    preview.warm_population(MANAGER, version, engine=engine)
    preview.forget_populations()  # waits for any background count
    assert len(counted) == 1
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first, preview.population(MARKETING, engine=engine))
    assert first["customers"].sum() == 4
    create_customer(ADMIN, {"first_name": "Eve", "last_name": "Test", "country": "FR"},
                    engine=engine, confirm=True)
    newer = data_version(engine=engine)
    assert newer != version
    assert preview.population(MARKETING, version=newer, engine=engine)["customers"].sum() == 5
    with pytest.raises(PermissionDenied):
        preview.warm_population(Actor("x", "nobody"), newer, engine=engine)
