"""Saved import mappings on both engines: save, replace, list, load, delete, who may, what is
refused, and the command line's way in (a name or a JSON file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from db.core.access import PermissionDenied
from db.core.engine import read_session
from db.imports.mapping import FIELDS
from db.imports.rows import Options
from db.imports.saved import (
    MappingError,
    delete_mapping,
    list_mappings,
    load_mapping,
    resolve_mapping,
    save_mapping,
)
from db.models import AuditEvent
from tests.factories import ADMIN, MANAGER, MARKETING

SHOP = {"order_ref": "Bestellnummer", "customer_ref": "Kundennummer", "ordered_at": "Datum",
        "amount": "Betrag", "currency": None}


def _events(engine: Engine, action: str) -> list[dict]:
    with read_session(engine) as session:
        return [json.loads(event.changes) for event in session.exec(
            select(AuditEvent).where(col(AuditEvent.action) == action)
            .order_by(col(AuditEvent.id)))]


def test_a_saved_mapping_round_trips_and_a_second_save_replaces_it(engine: Engine) -> None:
    options = Options(mode="create_only", day_first=True, currency="CHF", channel="store",
                      create_customers=True, country="CH")
    saved = save_mapping(ADMIN, "orders", "  Shop export ", SHOP, options, engine=engine)
    assert (saved.name, saved.updated_by, saved.mapping) == (
        "Shop export", "ada", {k: v for k, v in SHOP.items() if v})
    mapping, loaded = load_mapping(ADMIN, "orders", "Shop export", engine=engine)
    assert loaded == options
    assert list(mapping) == [field.name for field in FIELDS["orders"]]  # every field, in order
    assert mapping["order_ref"] == "Bestellnummer" and mapping["currency"] is None

    save_mapping(ADMIN, "orders", "Shop export", {"ordered_at": "Date", "email": "Mail",
                                                  "amount": "Total"}, Options(), engine=engine)
    save_mapping(ADMIN, "orders", "another", SHOP, Options(), engine=engine)
    save_mapping(ADMIN, "customers", "Shop export", {"first_name": "Vorname"}, Options(),
                 engine=engine)
    assert [m.name for m in list_mappings(ADMIN, "orders", engine=engine)] == [
        "another", "Shop export"]
    mapping, loaded = load_mapping(ADMIN, "orders", "Shop export", engine=engine)
    assert (mapping["ordered_at"], mapping["order_ref"], loaded) == ("Date", None, Options())
    saves = _events(engine, "import.mapping.save")
    assert [(e["kind"], e["name"], e["replaced"]) for e in saves] == [
        ("orders", "Shop export", False), ("orders", "Shop export", True),
        ("orders", "another", False), ("customers", "Shop export", False)]
    old, new = (json.loads(text) for text in saves[1]["columns"])
    assert (old["order_ref"], new["amount"]) == ("Bestellnummer", "Total")

    delete_mapping(ADMIN, "orders", "Shop export", engine=engine)
    assert [m.name for m in list_mappings(ADMIN, "orders", engine=engine)] == ["another"]
    assert [m.name for m in list_mappings(ADMIN, "customers", engine=engine)] == ["Shop export"]
    [deleted] = _events(engine, "import.mapping.delete")
    assert json.loads(deleted["columns"])["email"] == "Mail"
    with pytest.raises(MappingError, match="No saved orders mapping"):
        load_mapping(ADMIN, "orders", "Shop export", engine=engine)
    with pytest.raises(MappingError, match="No saved orders mapping"):
        delete_mapping(ADMIN, "orders", "Shop export", engine=engine)


@pytest.mark.parametrize(("name", "mapping", "options", "message"), [
    ("", SHOP, Options(), "Give the mapping a name"),
    ("x" * 101, SHOP, Options(), "at most 100 characters"),
    ("Shop\x1bexport", SHOP, Options(), "control character"),
    ("Shop\nexport", SHOP, Options(), "single line"),
    ("Shop", {**SHOP, "first_name": "Vorname"}, Options(), "Not fields of a orders import: "
                                                           "first_name"),
    ("Shop", SHOP, Options(currency="Euro!"), "Default currency"),
    ("Shop", SHOP, Options(mode="replace_all"), "Choose a mode"),
])
def test_bad_names_fields_and_options_are_refused_and_nothing_is_saved(
        engine: Engine, name: str, mapping: dict, options: Options, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        save_mapping(ADMIN, "orders", name, mapping, options, engine=engine)
    assert list_mappings(ADMIN, "orders", engine=engine) == []
    assert _events(engine, "import.mapping.save") == []


def test_only_admins_keep_mappings(engine: Engine) -> None:
    save_mapping(ADMIN, "customers", "CRM", {"first_name": "Vorname"}, Options(), engine=engine)
    for actor in (MANAGER, MARKETING):
        with pytest.raises(PermissionDenied):
            list_mappings(actor, "customers", engine=engine)
        with pytest.raises(PermissionDenied):
            load_mapping(actor, "customers", "CRM", engine=engine)
        with pytest.raises(PermissionDenied):
            save_mapping(actor, "customers", "Mine", {}, Options(), engine=engine)
        with pytest.raises(PermissionDenied):
            delete_mapping(actor, "customers", "CRM", engine=engine)
    assert len(list_mappings(ADMIN, "customers", engine=engine)) == 1


def test_the_command_line_finds_a_mapping_by_name_or_in_a_json_file(
        engine: Engine, tmp_path: Path) -> None:
    save_mapping(ADMIN, "orders", "Shop export", SHOP, Options(day_first=False), engine=engine)
    mapping, options = resolve_mapping(ADMIN, "orders", "Shop export", engine=engine)
    assert mapping["amount"] == "Betrag" and options.day_first is False

    whole = tmp_path / "shop.json"
    whole.write_text(json.dumps({"columns": SHOP, "options": {"currency": "USD",
                                                              "later_option": 1}}))
    mapping, options = resolve_mapping(ADMIN, "orders", str(whole), engine=engine)
    assert (mapping["customer_ref"], options.currency) == ("Kundennummer", "USD")
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"ordered_at": "Datum", "email": "Mail", "amount": "Summe"}))
    mapping, options = resolve_mapping(ADMIN, "orders", str(bare), engine=engine)
    assert (mapping["email"], mapping["order_ref"], options) == ("Mail", None, Options())

    for content, message in [("{not json", "cannot be read"),
                             ('{"columns": {"nope": "X"}}', "Not fields"),
                             ('{"columns": {}, "options": {"day_first": "yes"}}',
                              "day_first cannot be 'yes'")]:
        bare.write_text(content)
        with pytest.raises(MappingError, match=message):
            resolve_mapping(ADMIN, "orders", str(bare), engine=engine)
    with pytest.raises(MappingError, match="There is no mapping file"):
        resolve_mapping(ADMIN, "orders", str(tmp_path / "missing.json"), engine=engine)
    with pytest.raises(MappingError, match="No saved orders mapping is named “Nope”"):
        resolve_mapping(ADMIN, "orders", "Nope", engine=engine)
