"""Duplicates (admin, manager): the pairs the last detection stored, best first, each with
its score and reasons; a reviewer opens one, says "not the same" (remembered) or merges it
field by field; admins merge every pair above a threshold after a preview. The scoring, the
verdicts and the merge are the services' (:mod:`db.quality`)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard.access import require_page
from dashboard.holder import holder
from dashboard.text import counted, format_when, plain
from db.core.access import Capability, PermissionDenied
from db.customers.service import CustomerNotFound
from db.quality import bulk, decisions
from db.quality.candidates import candidates, find_duplicates, last_run
from db.quality.matching import DEFAULT_THRESHOLD, REVIEW_FLOOR, Pair
from db.quality.merge import MergeConflict, MergePlan, MergeRefused, merge_customers, merge_plan
from db.quality.review import Side, sides
from db.users.service import UserView

# Three dashboard.holder dicts: after a merge commits, the next Streamlit call is a point
# where a click stops the run, so its result and the end of its preview are noted by plain
# dict operations before any such call.
DONE = "duplicates_done"  # {"message"}: a result to show once, after the rerun that follows
SEEN = "duplicates_seen"  # pair -> the plan the reviewer is looking at (its versions)
BULK = "duplicates_bulk"  # {"threshold", "pairs", "plan"}: the bulk preview being confirmed
LABELS = {"first_name": "First name", "last_name": "Last name", "email": "E-mail",
          "phone": "Phone", "street": "Street", "postcode": "Postcode", "city": "City",
          "country": "Country", "birth_date": "Birth date", "gender": "Gender",
          "occupation": "Occupation", "income_band": "Income band",
          "preferred_channel": "Preferred channel", "status": "Status", "source": "Source",
          "external_ref": "Customer number"}
REFUSALS = (MergeRefused, CustomerNotFound, PermissionDenied, decisions.SamePerson)


def _run(user: UserView) -> None:
    run = last_run(user.actor)
    if run is None:
        st.info("No detection has run yet: find the duplicates first.")
    else:
        st.caption(f"Last detection {format_when(run.found_at)} by {run.found_by}: "
                   f"{counted(run.customers, 'customer')} compared in {run.seconds:,.1f} s, "
                   f"it found {counted(run.stored, 'pair')} to review, {run.proposed:,} of them at "
                   f"{DEFAULT_THRESHOLD:.0%} or more (proposed as duplicates). Pairs merged "
                   "or answered since have left the list below.")
    if st.button("Find duplicates now", icon=":material/manage_search:"):
        done, seen = holder(DONE), holder(SEEN)
        with st.spinner("Comparing every live customer…"):
            found = find_duplicates(user.actor)
            done["message"] = (f"Found {counted(found.stored, 'pair')} to review "
                               f"({found.proposed:,} proposed) in {found.seconds:,.1f} s.")
            seen.clear()
        st.rerun()


def _table(pairs: list[Pair], people: dict[int, Side]) -> Pair | None:
    def label(pair: Pair) -> str:
        left, right = (people[i].label if i in people else f"#{i}"
                       for i in (pair.left_id, pair.right_id))
        return f"{pair.score:.0%} · {left} and {right}"

    st.dataframe(pd.DataFrame([{
        "Score": pair.score, "Customers": label(pair).split(" · ", 1)[1],
        "Why": "; ".join(pair.reasons)} for pair in pairs]), hide_index=True, width="stretch",
        column_config={"Score": st.column_config.ProgressColumn(
            format="percent", min_value=0.0, max_value=1.0),
            "Why": st.column_config.TextColumn(width="large")})
    return st.selectbox("Pair to review", pairs, index=None, format_func=label,
                        placeholder="Choose a pair to compare the two records",
                        key="duplicates_pair")


def _survivor(pair: Pair, people: dict[int, Side]) -> tuple[int, int]:
    """The record to keep by default: more orders, then the older (lower id)."""
    left, right = people[pair.left_id], people[pair.right_id]
    keep = pair.right_id if right.orders > left.orders else pair.left_id
    options = [pair.left_id, pair.right_id]
    # Radio labels render Markdown: stored names are shown through plain().
    chosen = st.radio("Keep", options, index=options.index(keep), horizontal=True,
                      key=f"survivor_{pair.left_id}_{pair.right_id}",
                      format_func=lambda i: plain(f"{people[i].label} ({_orders(people[i])})"))
    return chosen, pair.right_id if chosen == pair.left_id else pair.left_id


def _orders(side: Side) -> str:
    # The summary's count includes refunds (a negative order), as the profile's list does.
    return f"{side.orders:,} order{'' if side.orders == 1 else 's'} and refunds"


def _shown(value: Any, customer_id: int) -> str:
    """A field's value as a radio option: literal (radio labels render Markdown) and
    naming whose value it is."""
    return plain(("—" if value in (None, "") else str(value)) + f" (#{customer_id})")


def _choices(plan: MergePlan) -> dict[str, str]:
    """Where the two records differ, which value to keep (the default preselected)."""
    keep: dict[str, str] = {}
    differing = [f for f in plan.fields if f.survivor != f.merged]
    st.caption(f"{len(differing)} of {len(plan.fields)} fields differ; the rest are equal.")
    for field in differing:
        shown = {"survivor": _shown(field.survivor, plan.survivor_id),
                 "merged": _shown(field.merged, plan.merged_id)}
        keep[field.name] = st.radio(
            LABELS.get(field.name, field.name), list(shown), index=list(shown).index(
                field.default), horizontal=True, format_func=shown.__getitem__,
            key=f"keep_{plan.survivor_id}_{plan.merged_id}_{field.name}")
    moving = {table: theirs for table, (_, theirs) in plan.rows.items() if theirs}
    st.caption("Moves to the kept record: " + (", ".join(
        f"{table.replace('_', ' ')}: {rows:,}" for table, rows in moving.items())
        or "nothing"))
    return keep


def _review(user: UserView, pair: Pair, people: dict[int, Side]) -> None:
    if pair.left_id not in people or pair.right_id not in people:
        return
    st.subheader(plain(f"{people[pair.left_id].label} and {people[pair.right_id].label}"))
    st.caption(plain("Why: " + "; ".join(pair.reasons)) + f" — score {pair.score:.0%}.")
    survivor, merged = _survivor(pair, people)
    key = (survivor, merged)
    try:
        # The comparison as first shown: a merge refuses if either record changed since.
        seen, done = holder(SEEN), holder(DONE)
        plan = seen.get(key) or merge_plan(user.actor, survivor, merged)
    except REFUSALS as refused:
        st.error(plain(str(refused)))
        return
    seen.clear()
    seen[key] = plan
    keep = _choices(plan)
    merge, same, different = st.columns(3)
    if merge.button(f"Merge into #{survivor}", type="primary", key=f"merge_{key}"):
        try:
            result = merge_customers(user.actor, survivor_id=survivor, merged_id=merged,
                                     survivor_version=plan.survivor_version,
                                     merged_version=plan.merged_version, keep=keep)
            # No Streamlit call between the commit and these notes.
            done["message"] = (f"Merged #{merged} into #{survivor}: "
                               f"{sum(result.moved.values()):,} rows moved; links to "
                               f"#{merged} now open #{survivor}.")
            seen.clear()
        except (MergeConflict, *REFUSALS) as refused:
            seen.clear()  # the next view reads both records again
            st.error(plain(str(refused)))
            return
        st.rerun()
    verdicts = {True: ("Same person, merge later", "are the same person; merge them when "
                       "ready."),
                False: ("Not the same person", "are not the same person; this pair will not "
                        "be proposed again.")}
    for column, is_same in ((same, True), (different, False)):
        label, noted = verdicts[is_same]
        if column.button(label, key=f"verdict_{is_same}_{key}"):
            try:
                decisions.mark(user.actor, pair.left_id, pair.right_id, same=is_same)
                done["message"] = f"Noted: #{pair.left_id} and #{pair.right_id} {noted}"
                seen.clear()
            except REFUSALS as refused:
                st.error(plain(str(refused)))
                return
            st.rerun()


def _bulk(user: UserView) -> None:
    st.subheader("Merge every pair above a threshold")
    threshold = st.number_input("Score at least", min_value=REVIEW_FLOOR, max_value=1.0,
                                value=DEFAULT_THRESHOLD, step=0.01, key="bulk_threshold")
    pairs = [(p.left_id, p.right_id) for p in candidates(user.actor, min_score=threshold,
                                                          limit=10_000)]
    if not pairs:
        st.caption("No pair scores that high.")
        return
    shown, done, seen = holder(BULK), holder(DONE), holder(SEEN)
    if st.button(f"Preview merging {counted(len(pairs), 'pair')}", key="bulk_preview"):
        previewed = bulk.preview_pairs(user.actor, pairs)
        shown.update(threshold=threshold, pairs=pairs, plan=previewed)
    if not shown or shown["threshold"] != threshold:
        return
    pairs, plan = shown["pairs"], shown["plan"]  # what was previewed: a pair found since waits
    st.dataframe(pd.DataFrame([{
        "Keep": f"#{m.survivor_id} {m.survivor_name}", "Orders kept": m.survivor_orders,
        "Merge": f"#{m.merged_id} {m.merged_name}", "Orders moved": m.merged_orders,
        "Fields filled": ", ".join(LABELS.get(name, name) for name in m.fields)}
        for m in plan.merges]), hide_index=True, width="stretch")
    for skipped in plan.skipped:
        st.caption(plain(f"Skipped #{skipped.survivor_id} and #{skipped.merged_id}: "
                         f"{skipped.reason}"))
    with st.form("bulk_confirm"):
        typed = st.text_input(f"To merge all {len(plan.merges):,}, type {len(plan.merges)}",
                              key="bulk_typed")
        if not st.form_submit_button(f"Merge {counted(len(plan.merges), 'pair')}", type="primary"):
            return
    if typed.strip() != str(len(plan.merges)):
        st.error(f"Type {len(plan.merges)} to confirm; nothing was merged.")
        return
    result = bulk.merge_pairs(user.actor, pairs, versions=plan.versions)
    # No Streamlit call between the commit and these notes: a second click finds no preview.
    done["message"] = (f"Merged {counted(len(result.merged), 'pair')}; skipped "
                       f"{len(result.skipped):,} (changed or merged meanwhile).")
    shown.clear()
    seen.clear()
    st.session_state.pop("bulk_typed", None)
    st.rerun()


def main() -> None:
    user = require_page(Capability.EDIT_CUSTOMER, "Duplicates")
    st.title("Duplicates")
    done = holder(DONE)
    if message := done.get("message"):
        st.success(plain(message))
        done.pop("message")  # once shown: a run stopped before showing it shows it next
    _run(user)
    pairs = candidates(user.actor)
    opened = holder(SEEN)
    if opened and not any((p.left_id, p.right_id) == tuple(sorted(next(iter(opened))))
                          for p in pairs):
        st.info("The pair you had open is no longer listed: one of its records was merged, "
                "deleted or marked not the same meanwhile (perhaps in another tab).")
        opened.clear()
    if not pairs:
        if last_run(user.actor) is not None:
            st.success("No pair left to review.")
        return
    people = sides(user.actor, {i for p in pairs for i in (p.left_id, p.right_id)})
    chosen = _table(pairs, people)
    if chosen is not None:
        _review(user, chosen, people)
    if user.actor.can(Capability.ADMINISTER):
        st.divider()
        _bulk(user)


main()
