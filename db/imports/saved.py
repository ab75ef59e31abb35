"""Saved column mappings: a team's "Shop export" or "POS history", reused every month.

A saved mapping is, per kind of import, a name, which column feeds which field and the
options the file leaves open (matching mode, date order, default currency...). The wizard
offers them beside the suggestion; the command line finds one by name or reads the same
shape from a JSON file (:func:`resolve_mapping`). Only admins, who may import, keep them;
saving and deleting are audited.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from db.audit import trail
from db.core.access import Actor, Capability, require
from db.core.engine import read_session, write_session
from db.core.text import control_problem
from db.core.types import utcnow
from db.imports.mapping import FIELDS, KINDS
from db.imports.models import ImportMapping
from db.imports.rows import Options

NAME_LENGTH = 100
_OPTION_NAMES = {option.name for option in dataclasses.fields(Options)}
_OPTION_TYPES: dict[str, tuple[type, ...]] = {
    "mode": (str,), "day_first": (bool, type(None)), "currency": (str,), "channel": (str,),
    "category": (str,), "create_customers": (bool,), "country": (str, type(None)),
    "notice_version": (str, type(None))}


class MappingError(ValueError):
    """A saved mapping that cannot be stored, found or used; the message says why."""


@dataclass(frozen=True)
class SavedMapping:
    """A saved mapping as the wizard lists it (``mapping`` holds only the mapped fields)."""

    kind: str
    name: str
    mapping: dict[str, str]
    options: Options
    updated_by: str
    updated_at: datetime


def list_mappings(actor: Actor, kind: str, *, engine: Engine | None = None
                  ) -> list[SavedMapping]:
    """Every mapping saved for ``kind``, by name (case ignored)."""
    require(actor, Capability.ADMINISTER)
    _check_kind(kind)
    with read_session(engine) as session:
        stored = session.exec(select(ImportMapping).where(col(ImportMapping.kind) == kind)
                              .order_by(func.lower(col(ImportMapping.name)))).all()
        return [_view(row) for row in stored]


def load_mapping(actor: Actor, kind: str, name: str, *, engine: Engine | None = None
                 ) -> tuple[dict[str, str | None], Options]:
    """The saved mapping ``name`` of ``kind`` as the engine takes it: every field of the
    kind → its column or None, and the options; :class:`MappingError` when there is none."""
    require(actor, Capability.ADMINISTER)
    _check_kind(kind)
    with read_session(engine) as session:
        saved = _view(_existing(session, kind, name))
    return _complete(kind, saved.mapping), saved.options


def save_mapping(actor: Actor, kind: str, name: str, mapping: dict[str, str | None],
                 options: Options, *, engine: Engine | None = None) -> SavedMapping:
    """Save ``mapping`` and ``options`` as ``name`` for ``kind``, replacing a mapping of
    that name (audited as ``import.mapping.save`` with what was there before)."""
    require(actor, Capability.ADMINISTER)
    _check_kind(kind)
    name = _clean_name(name)
    columns = _clean_columns(kind, mapping)
    problems = options.problems()
    if problems:
        raise MappingError(" ".join(problems))
    stored_options = json.dumps(dataclasses.asdict(options), sort_keys=True, ensure_ascii=False)
    stored_columns = json.dumps(columns, sort_keys=True, ensure_ascii=False)
    try:
        with write_session(engine) as session:
            row = _find(session, kind, name)
            # JSON text, as stored: the audit trail keeps flat values ([old, new] on a change).
            changes: dict[str, Any] = {"kind": kind, "name": name, "replaced": row is not None,
                                       "columns": stored_columns, "options": stored_options}
            if row is not None:
                changes["columns"] = [row.columns, stored_columns]
                changes["options"] = [row.options, stored_options]
            if row is None:
                row = ImportMapping(kind=kind, name=name, columns=stored_columns,
                                    options=stored_options, updated_by=actor.username[:50],
                                    updated_at=utcnow())
                session.add(row)
            else:
                row.columns, row.options = stored_columns, stored_options
                row.updated_by, row.updated_at = actor.username[:50], utcnow()
            session.flush()
            trail.record(session, actor=actor.username, action="import.mapping.save",
                         entity="import_mapping", entity_id=row.id, changes=changes,
                         source="form")
            saved = _view(row)
    except IntegrityError:  # someone saved the same name at the same moment
        raise MappingError(f"A {kind} mapping named “{name}” was saved meanwhile; "
                           "save again to replace it.") from None
    return saved


def delete_mapping(actor: Actor, kind: str, name: str, *, engine: Engine | None = None
                   ) -> None:
    """Delete the saved mapping ``name`` of ``kind`` (audited with what it held)."""
    require(actor, Capability.ADMINISTER)
    _check_kind(kind)
    with write_session(engine) as session:
        row = _existing(session, kind, name)
        trail.record(session, actor=actor.username, action="import.mapping.delete",
                     entity="import_mapping", entity_id=row.id,
                     changes={"kind": kind, "name": row.name, "columns": row.columns,
                              "options": row.options}, source="form")
        session.delete(row)


def resolve_mapping(actor: Actor, kind: str, name_or_file: str, *,
                    engine: Engine | None = None) -> tuple[dict[str, str | None], Options]:
    """For the command line's ``--mapping``: a JSON file when one exists at that path
    (``{"columns": {field: column}, "options": {...}}``, or just ``{field: column}``),
    otherwise the saved mapping of that name."""
    path = Path(name_or_file)
    if name_or_file.lower().endswith(".json") or path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise MappingError(f"There is no mapping file {name_or_file}.") from None
        except (OSError, ValueError) as error:
            raise MappingError(f"The mapping file {name_or_file} cannot be read "
                               f"({error}).") from None
        return mapping_from_json(kind, data)
    return load_mapping(actor, kind, name_or_file, engine=engine)


def mapping_from_json(kind: str, data: object) -> tuple[dict[str, str | None], Options]:
    """A mapping (and options) written as JSON, checked as :func:`save_mapping` checks."""
    _check_kind(kind)
    if not isinstance(data, dict):
        raise MappingError("A mapping is a JSON object of field → column.")
    if "columns" in data and isinstance(data["columns"], dict):
        columns, options = data["columns"], data.get("options") or {}
    else:
        columns, options = data, {}
    if not isinstance(options, dict):
        raise MappingError("The mapping's options are a JSON object.")
    checked = _clean_columns(kind, columns)
    made = _options(options)
    problems = made.problems()
    if problems:
        raise MappingError(" ".join(problems))
    return _complete(kind, checked), made


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise MappingError(f"Choose what the file holds: {', '.join(KINDS)}.")


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise MappingError("Give the mapping a name.")
    if len(name) > NAME_LENGTH:
        raise MappingError(f"A mapping's name has at most {NAME_LENGTH} characters "
                           f"(this has {len(name)}).")
    problem = control_problem(name)
    if problem:
        raise MappingError(f"Name: {problem}")
    return name


def _clean_columns(kind: str, mapping: dict[str, Any]) -> dict[str, str]:
    fields = {spec.name for spec in FIELDS[kind]}
    unknown = sorted(str(name) for name in mapping if name not in fields)
    if unknown:
        raise MappingError(f"Not fields of a {kind} import: {', '.join(unknown)}.")
    columns = {}
    for name, column in mapping.items():
        if column is None or column == "":
            continue
        if not isinstance(column, str) or len(column) > 255:
            raise MappingError(f"{name}: a column is named by its header (at most 255 "
                               "characters).")
        columns[name] = column
    return columns


def _complete(kind: str, columns: dict[str, str]) -> dict[str, str | None]:
    return {spec.name: columns.get(spec.name) for spec in FIELDS[kind]}


def _options(stored: dict[str, Any]) -> Options:
    """Options from JSON; names an older or newer version does not know are left out."""
    known = {name: value for name, value in stored.items() if name in _OPTION_NAMES}
    for name, value in known.items():
        allowed = _OPTION_TYPES[name]
        if not isinstance(value, allowed) or (bool not in allowed and isinstance(value, bool)):
            raise MappingError(f"The mapping's option {name} cannot be {value!r}.")
    return Options(**known)


def _find(session: Any, kind: str, name: str) -> ImportMapping | None:
    return session.exec(select(ImportMapping).where(col(ImportMapping.kind) == kind,
                                                    col(ImportMapping.name) == name)).first()


def _existing(session: Any, kind: str, name: str) -> ImportMapping:
    """The saved mapping ``name`` (trimmed) of ``kind``, or :class:`MappingError`."""
    row = _find(session, kind, name.strip())
    if row is None:
        raise MappingError(f"No saved {kind} mapping is named “{name.strip()}”.")
    return row


def _view(row: ImportMapping) -> SavedMapping:
    return SavedMapping(kind=row.kind, name=row.name, mapping=json.loads(row.columns),
                        options=_options(json.loads(row.options)),
                        updated_by=row.updated_by, updated_at=row.updated_at)
