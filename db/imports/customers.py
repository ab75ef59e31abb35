"""Customer files: each row a new customer, an update, unchanged, or rejected.

Customers are matched on their customer number (``external_ref``) when the file gives one,
else on the normalised e-mail. A number the database does not know but whose e-mail
belongs to a customer without a number links that customer to it; an e-mail that belongs to
a customer with another number is refused rather than moved. Rows repeating a number or an
e-mail of an earlier row are rejected as duplicates. An update changes only what the file
gives and differs from the record (an empty cell keeps the stored value); the record's
version moves, so a form opened before the import reports a conflict instead of overwriting.
Consent columns append consent rows where they differ from the customer's current state
(:mod:`db.imports.consent`); a row that changes only consent is counted as updated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from db.customers import suppression
from db.customers.validation import normalise_country
from db.imports.consent import PURPOSE_OF, changes, current_states
from db.imports.lookup import Ids, Outcome, Plan, Stored, stored, without_keys
from db.imports.mapping import FIELDS
from db.imports.rows import CustomerRow, Options, RowProblem, customer_row
from db.models import is_live

_REQUIRED = [spec for spec in FIELDS["customers"] if spec.required]
CUSTOMER_COLUMNS = [spec.name for spec in FIELDS["customers"]
                    if spec.name != "created_at" and spec.name not in PURPOSE_OF]




class CustomerJudge:
    """Customers: new, updated, unchanged or rejected, by the options' mode."""

    def __init__(self, session: Session, options: Options, outcome: Outcome,
                 now: datetime, writing: bool) -> None:
        self.session, self.options, self.outcome, self.now = session, options, outcome, now
        self.ids = Ids(session, writing)
        self.seen: dict[tuple[str, str], int] = {}
        self.source_mapped = False
        self.consent: dict[int, dict[str, bool]] = {}  # the matched customers' current state

    def read(self, cells: dict[str, str], line: int, record: dict[str, str]
             ) -> tuple[CustomerRow, dict[str, str]]:
        self.source_mapped = "source" in cells
        return customer_row(cells, line, self.options, self.now), record

    def _first_sighting(self, row: CustomerRow, record: dict[str, str]) -> bool:
        if _keyless(row):
            key = repr(sorted(row.fields.items()))
            first = self.seen.get(("row", key))
            if first is not None:
                self.outcome.reject(row.line, f"The same customer as line {first}.", record)
                return False
            self.seen[("row", key)] = row.line
            return True
        for kind, value, words in (("ref", row.ref, "customer number"),
                                   ("email", row.email, "e-mail")):
            if value is None:
                continue
            first = self.seen.get((kind, value))
            if first is not None:
                self.outcome.duplicate(value, first, row.line)
                self.outcome.reject(row.line, f"Same {words} as line {first}.", record)
                return False
        for kind, value in (("ref", row.ref), ("email", row.email)):
            if value is not None:
                self.seen[(kind, value)] = row.line
        return True

    def decide(self, rows: list[tuple[CustomerRow, dict[str, str]]]) -> Plan:
        rows = [(row, record) for row, record in rows if self._first_sighting(row, record)]
        by_ref = stored(self.session, "external_ref", {r.ref for r, _ in rows if r.ref})
        by_email = stored(self.session, "email", {r.email for r, _ in rows if r.email})
        keyless = without_keys(self.session, {r.fields["last_name"] for r, _ in rows
                                              if _keyless(r) and "last_name" in r.fields})
        erased = suppression.suppressed_since(self.session, {r.email for r, _ in rows if r.email})
        if any(row.consent for row, _ in rows):
            self.consent = current_states(self.session, {
                match.id for found in (by_ref, by_email) for match in found.values()})
        plan = Plan()
        for row, record in rows:
            try:
                if row.email in erased:
                    raise RowProblem(suppression.REFUSAL.format(since=erased[row.email]))
                if _keyless(row):
                    self._keyless(plan, row, keyless)
                    continue
                match = self._match(row, by_ref, by_email)
                if match is None:
                    self._create(plan, row)
                else:
                    self._update(plan, row, match)
            except RowProblem as problem:
                self.outcome.reject(row.line, str(problem), record)
        return plan

    def _keyless(self, plan: Plan, row: CustomerRow, candidates: list[Stored]) -> None:
        """A row with neither customer number nor e-mail cannot be matched, so it is a new
        customer, unless a stored customer without either holds exactly what it says
        (the same file imported again, or an export of this database): then it is left."""
        wanted = self._new_fields(row)
        if row.created_at is not None:
            wanted["created_at"] = row.created_at
        if any(all(match.values.get(name) == value for name, value in wanted.items())
               for match in candidates if is_live(match)):
            self.outcome.unchanged += 1
            return
        self._create(plan, row)

    def _new_fields(self, row: CustomerRow) -> dict[str, Any]:
        """The row's fields, with the options' country when the file gives none."""
        fields = dict(row.fields)
        if "country" not in fields and self.options.country:
            fields["country"] = normalise_country(self.options.country)
        return fields

    def _match(self, row: CustomerRow, by_ref: dict[str, Stored],
               by_email: dict[str, Stored]) -> Stored | None:
        match = by_ref.get(row.ref) if row.ref else None
        owner = by_email.get(row.email) if row.email else None
        if owner is not None and match is None and row.ref and owner.values["external_ref"]:
            raise RowProblem(f"The e-mail belongs to customer #{owner.id}, whose customer "
                             f"number is {owner.values['external_ref']}.")
        if owner is not None and match is not None and owner.id != match.id:
            raise RowProblem(f"The e-mail belongs to another customer (#{owner.id}).")
        match = match or owner
        if match is not None and not is_live(match):
            raise RowProblem(match.refusal())
        return match

    def _create(self, plan: Plan, row: CustomerRow) -> None:
        if self.options.mode == "update_only":
            raise RowProblem("No customer with this customer number or e-mail (the import "
                             "only updates existing customers).")
        fields = self._new_fields(row)
        missing = [spec.label for spec in _REQUIRED if spec.name not in fields]
        if missing:
            raise RowProblem("A new customer needs: " + ", ".join(missing) + ".")
        customer_id = self.ids.take()
        values = {name: fields.get(name) for name in CUSTOMER_COLUMNS}
        values |= {"id": customer_id, "status": fields.get("status") or "lead",
                   # "import" unless the file has a source column (then its cell, or none).
                   "source": row.fields.get("source", None if self.source_mapped
                                            else "import"),
                   "created_at": row.created_at or self.now, "updated_at": self.now,
                   "version": 1}
        plan.customers.append(values)
        plan.notes[customer_id] = {name: [None, value] for name, value in fields.items()}
        self._consent(plan, customer_id, row, {})
        self.outcome.new += 1

    def _consent(self, plan: Plan, customer_id: int, row: CustomerRow,
                 current: dict[str, bool]) -> bool:
        """Plan the consent rows this row states differently from ``current``; whether any."""
        rows, note = changes(customer_id, row.consent, current,
                             notice_version=(self.options.notice_version or "").strip(),
                             now=self.now)
        if rows:
            plan.consent += rows
            plan.notes.setdefault(customer_id, {}).update(note)
            self.outcome.consent += len(rows)
        return bool(rows)

    def _update(self, plan: Plan, row: CustomerRow, match: Stored) -> None:
        if self.options.mode == "create_only":
            self.outcome.unchanged += 1
            return
        wanted = dict(row.fields)
        if row.created_at is not None:
            wanted["created_at"] = row.created_at
        differences = {name: [match.values[name], value] for name, value in wanted.items()
                       if match.values[name] != value}
        if differences:  # consent alone leaves the record (and its version) as it is
            values = {name: new for name, (_, new) in differences.items()}
            values |= {"updated_at": self.now, "version": match.values["version"] + 1}
            plan.updates.append((match.id, values, differences))
            plan.notes[match.id] = differences
        consented = self._consent(plan, match.id, row, self.consent.get(match.id, {}))
        if differences or consented:
            self.outcome.updated += 1
        else:
            self.outcome.unchanged += 1


def _keyless(row: CustomerRow) -> bool:
    return row.ref is None and row.email is None
