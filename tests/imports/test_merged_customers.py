"""Rows naming a customer who was merged into another: refused with the survivor to use
instead, where they used to say the customer "was deleted" (the import did not know merges)."""

from __future__ import annotations

from sqlalchemy import Engine

from db.imports.engine import commit
from db.quality.merge import merge_customers, merge_plan
from tests.factories import ADMIN, customer
from tests.imports.test_engine import request


def _merged(engine: Engine) -> tuple[int, int]:
    kept = customer(engine, "Ines", "Vogt", external_ref="K-100")
    gone = customer(engine, "Ines", "Voigt", email="ines.old@example.org",
                    external_ref="K-200")
    assert kept.id is not None and gone.id is not None
    plan = merge_plan(ADMIN, kept.id, gone.id, engine=engine)
    merge_customers(ADMIN, survivor_id=kept.id, merged_id=gone.id,
                    survivor_version=plan.survivor_version,
                    merged_version=plan.merged_version,
                    keep={"email": "survivor", "external_ref": "survivor"}, engine=engine)
    return kept.id, gone.id


def test_customer_and_order_rows_naming_a_merged_record_name_its_survivor(
        engine: Engine) -> None:
    kept, gone = _merged(engine)
    expected = f"merged into customer #{kept}: use that customer's number or e-mail"
    people = commit(ADMIN, request("customers", "customer_ref,first_name,last_name,country\n"
                                   "K-200,Ines,Voigt,DE\n", encoding="utf-8"), engine=engine)
    assert people.updated == 0 and expected in people.rejects[0].reason
    assert f"#{gone}" in people.rejects[0].reason
    orders = commit(ADMIN, request("orders", "email,ordered_at,amount\n"
                                   "ines.old@example.org,2026-11-02,9.99\n",
                                   encoding="utf-8"), engine=engine)
    assert orders.new == 0 and expected in orders.rejects[0].reason
