"""A saved segment's members as a file (CSV or Excel), by the policy every customer export
shares (:mod:`db.exports`): consented members only unless an admin asks otherwise, formulas
neutralised, audited with who, which segment and how many.
"""

from __future__ import annotations

from sqlalchemy import Engine

from db import exports
from db.audit import trail
from db.core.access import Actor
from db.core.engine import get_engine, write_session
from db.core.types import utcnow
from db.exports import ExportFile
from db.segments.membership import SegmentError, member_condition
from db.segments.service import get_segment


def export_members(actor: Actor, segment_id: int, *, fmt: str = "csv",
                   include_without_consent: bool = False,
                   engine: Engine | None = None) -> ExportFile:
    """The segment's members as CSV or Excel, audited with who, which segment, how many.

    Only members who granted email-marketing consent are exported, unless an admin asks
    for everyone (``include_without_consent``, recorded in the audit trail); members who
    objected or whose processing is restricted never are (counted in ``withheld``): the
    policy of :mod:`db.exports`, which every customer export shares.
    """
    try:
        exports.check(actor, fmt=fmt, include_without_consent=include_without_consent)
    except exports.ExportError as error:
        raise SegmentError(str(error)) from error
    engine = engine or get_engine()
    segment = get_segment(actor, segment_id, engine=engine)
    with engine.connect() as connection:
        where = member_condition(segment, connection, utcnow())
        frame = exports.customer_frame(connection, exports.exportable(
            where, include_without_consent=include_without_consent))
        withheld = exports.withheld(connection, where,
                                    include_without_consent=include_without_consent)
    try:
        exported = exports.write(frame, fmt=fmt, name=segment.name, fallback="segment",
                                 rows_are="members", withheld=withheld)
    except exports.ExportError as error:
        raise SegmentError(str(error)) from error
    with write_session(engine) as session:
        trail.record(session, actor=actor.username, action="segment.export", entity="segment",
                     entity_id=segment_id,
                     changes={"name": segment.name, "rows": len(frame),
                              "withheld": withheld, "format": fmt,
                              "without_consent": include_without_consent}, source="form")
    return exported
