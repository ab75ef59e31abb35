"""The lookup's results as a file, by the one export policy of :mod:`db.exports`.

Exporting what a search lists is exporting customers: the same role check, the same
consent rule (only customers who granted email-marketing consent unless an admin asks for
everyone; never one who objected or whose processing is restricted), the same columns and
formula-safe writer as a segment export, and an audit event that says who exported which
search, how many rows, how many were withheld and whether consent was overridden.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import Engine

from db import exports
from db.audit import trail
from db.core.access import Actor, Capability, require
from db.core.engine import get_engine, write_session
from db.search.ranking import COUNTED, SearchFilters, search_customers


@dataclass(frozen=True)
class LookupExport:
    """A ready file and what it was made from, for the page to explain what it holds."""

    file: exports.ExportFile
    results: int  # the listed results the file was made from
    total: int  # customers matching the search, as the lookup counts them
    more: bool  # more than ``total`` match (see SearchResults.more)
    without_consent: bool  # everyone was asked for, consent or not


def export_results(actor: Actor, term: str, filters: SearchFilters | None = None, *,
                   fmt: str = "csv", include_without_consent: bool = False,
                   engine: Engine | None = None) -> LookupExport:
    """The customers a search lists (every page of it), in the lookup's order, as CSV or
    Excel; only those who granted email-marketing consent unless an admin asks for all."""
    require(actor, Capability.LOOKUP)
    exports.check(actor, fmt=fmt, include_without_consent=include_without_consent)
    engine = engine or get_engine()
    filters = filters or SearchFilters()
    found = search_customers(actor, term, filters, limit=COUNTED, engine=engine)
    ids = [hit.customer.id for hit in found.hits]
    with engine.connect() as connection:
        found_ids = exports.C.id.in_(ids)
        frame = exports.customer_frame(connection, exports.exportable(
            found_ids, include_without_consent=include_without_consent))
        withheld = exports.withheld(connection, found_ids,
                                    include_without_consent=include_without_consent)
    position = {customer_id: index for index, customer_id in enumerate(ids)}
    frame = frame.sort_values("customer_id", key=lambda column: column.map(position),
                              ignore_index=True)
    exported = exports.write(frame, fmt=fmt, name="lookup", fallback="lookup",
                             rows_are="customers", withheld=withheld)
    with write_session(engine) as session:
        trail.record(session, actor=actor.username, action="lookup.export", entity="customer",
                     changes={"search": term, **asdict(filters),
                              "results": len(ids), "rows": exported.rows,
                              "withheld": withheld, "format": fmt,
                              "without_consent": include_without_consent}, source="form")
    return LookupExport(file=exported, results=len(ids), total=found.total, more=found.more,
                        without_consent=include_without_consent)
