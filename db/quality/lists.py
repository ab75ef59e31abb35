"""A list of the data quality report as a file, or as a static segment (e.g. for a
re-permission campaign).

Reading a list is the report's right (``Capability.EDIT_CUSTOMER``: admins and managers);
what is then done with it follows that feature's own rules:

- :func:`export_list`: the one export policy of :mod:`db.exports` — the segment right,
  customers who granted e-mail marketing consent unless an admin asks for everyone,
  never a customer who objected or whose processing is restricted (counted as withheld),
  the same columns and the formula-safe writer — audited as ``quality.export`` with the
  list, how many it held, how many rows were written and withheld, and the format.
- :func:`save_as_segment`: a static segment of exactly the customers on the list now,
  owned by the actor (:func:`db.segments.service.save_static_list`, the segment right,
  audited as ``segment.create``). Like every segment it holds marked customers too; its
  export leaves them out.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from db import exports
from db.admin import settings
from db.audit import trail
from db.core.access import Actor, Capability, require
from db.core.engine import get_engine, write_session
from db.core.types import utcnow
from db.models import Segment
from db.quality.report import CHECK_LABELS, FIELD_LABELS, list_ids, listed_ids
from db.segments.service import save_static_list

_BATCH = 10_000  # ids per query: far below either engine's parameter limit


def list_name(check: str, field: str | None = None) -> str:
    """A list's name as the page shows it: "Missing: Phone", "Stale"."""
    label = CHECK_LABELS.get(check, check)
    return f"{label}: {FIELD_LABELS.get(field, field)}" if field else label


def export_list(actor: Actor, check: str, field: str | None = None, *, fmt: str = "csv",
                include_without_consent: bool = False,
                engine: Engine | None = None) -> exports.ExportFile:
    """Every customer on the list as CSV or Excel, by the policy of :mod:`db.exports`."""
    require(actor, Capability.EDIT_CUSTOMER)
    exports.check(actor, fmt=fmt, include_without_consent=include_without_consent)
    engine = engine or get_engine()
    days = settings.current(engine=engine).stale_after_days
    frames, withheld = [], 0
    with engine.connect() as connection:
        ids = listed_ids(connection, check, field, now=utcnow(), stale_after_days=days)
        for start in range(0, len(ids), _BATCH):
            chosen = exports.C.id.in_(ids[start:start + _BATCH])
            frames.append(exports.customer_frame(connection, exports.exportable(
                chosen, include_without_consent=include_without_consent)))
            withheld += exports.withheld(connection, chosen,
                                         include_without_consent=include_without_consent)
    frame = (pd.concat(frames, ignore_index=True) if frames
             else pd.DataFrame(columns=exports.COLUMNS))
    name = list_name(check, field)
    exported = exports.write(frame, fmt=fmt, name=f"data quality {name}",
                             fallback="data-quality", rows_are="customers", withheld=withheld)
    with write_session(engine) as session:
        trail.record(session, actor=actor.username, action="quality.export",
                     entity="customer",
                     changes={"list": check, "field": field, "listed": len(ids),
                              "rows": exported.rows, "withheld": withheld, "format": fmt,
                              "without_consent": include_without_consent}, source="form")
    return exported


def save_as_segment(actor: Actor, check: str, field: str | None = None, *, name: str,
                    description: str | None = None,
                    engine: Engine | None = None) -> Segment:
    """A static segment ``name`` of exactly the customers on the list now, owned by
    ``actor``; refused (nothing saved) when the name is taken or not a valid name."""
    require(actor, Capability.SEGMENTS)
    ids = list_ids(actor, check, field, engine=engine)
    listed = list_name(check, field)
    if not (description or "").strip():
        description = (f"Saved from the Data quality page: {listed}, "
                       f"{utcnow():%Y-%m-%d %H:%M} UTC.")
    return save_static_list(actor, name=name, description=description, customer_ids=ids,
                            origin=f"data quality: {listed}", engine=engine)
