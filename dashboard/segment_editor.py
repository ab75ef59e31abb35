"""The segment builder's definition editor: nested ALL/ANY groups of conditions as widgets.

The draft lives in ``st.session_state`` as plain dicts shaped like
:class:`db.segments.definition.Group`, plus a ``uid`` per node so that every widget keeps a
stable key while nodes are added, removed and nested. Widgets write their values back into
the draft on each run; :func:`to_definition` strips the uids for the service layer.
Problems found by :func:`db.segments.definition.problems` are shown beside their condition.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import streamlit as st

from dashboard.date_bounds import EARLIEST, LATEST
from dashboard.text import plain
from db.models import INTERACTION_KINDS
from db.predict.outlook import AT_RISK_BELOW
from db.segments.definition import (
    FIELDS,
    MAX_DEPTH,
    NO_VALUE_OPS,
    OP_LABELS,
    SEGMENT_OPS,
    SET_OPS,
    Condition,
    FieldSpec,
    Group,
    condition_problem,
    takes_min_count,
    unfilled,
)

DRAFT = "segment_draft"
_COUNTER = "segment_uid"
_WINDOW_LABELS = {"ever": "ever", "last_days": "in the last N days", "between": "between dates"}
_MATCH_LABELS = {"all": "ALL of these (and)", "any": "ANY of these (or)"}
# The win-back starting point: customers the model thinks are slipping away, but worth it.
WIN_BACK_VALUE = 500
WIN_BACK = Group(children=[
    Condition(field="p_alive", op="lt", value=AT_RISK_BELOW),
    Condition(field="value_12m", op="gt", value=WIN_BACK_VALUE)])


def _uid() -> str:
    st.session_state[_COUNTER] = st.session_state.get(_COUNTER, 0) + 1
    return f"n{st.session_state[_COUNTER]}"


def new_condition() -> dict:
    return {"uid": _uid(), "type": "condition", "field": "country", "op": "eq", "value": None,
            "window": None, "min_count": None, "kind": None}


def new_group(match: str = "all") -> dict:
    return {"uid": _uid(), "type": "group", "match": match, "negate": False, "children": []}


def from_definition(definition: Group) -> dict:
    """A draft (with uids) of a stored definition, to edit it."""
    def walk(node: dict) -> dict:
        node = dict(node, uid=_uid())
        if node["type"] == "group":
            node["children"] = [walk(child) for child in node["children"]]
        return node
    return walk(definition.model_dump(mode="json"))


def to_definition(draft: dict) -> Group:
    """The draft without its uids, as the service layer's definition."""
    def strip(node: dict) -> dict:
        clean = {key: value for key, value in node.items() if key != "uid"}
        if clean["type"] == "group":
            clean["children"] = [strip(child) for child in clean["children"]]
        return clean
    return Group.model_validate(strip(draft))


def _field_label(name: str) -> str:
    return FIELDS[name].label


def render(draft: dict, options: dict[str, list[str]], segment_choices: dict[int, str]) -> bool:
    """Draw the editor for ``draft``; returns True when the structure changed (rerun)."""
    return _group(draft, 0, options, segment_choices, parent=None)


def _group(node: dict, depth: int, options: dict[str, list[str]], segments: dict[int, str],
           parent: dict | None) -> bool:
    uid = node["uid"]
    with st.container(border=True):
        head = st.columns([4, 1], vertical_alignment="center")
        node["match"] = head[0].radio(
            "Match", list(_MATCH_LABELS), format_func=_MATCH_LABELS.__getitem__,
            index=list(_MATCH_LABELS).index(node["match"]), key=f"{uid}:match",
            horizontal=True, label_visibility="collapsed")
        node["negate"] = head[1].toggle("NOT", value=node["negate"], key=f"{uid}:negate",
                                        help="Customers who do NOT match this group")
        if not node["children"]:
            st.caption("An empty ALL group matches every customer; an empty ANY group "
                       "matches nobody. Add a condition.")
        for child in list(node["children"]):
            if child["type"] == "group":
                changed = _group(child, depth + 1, options, segments, node)
            else:
                changed = _condition(child, options, segments, node)
            if changed:
                return True
        return _group_buttons(node, depth, parent)


def _group_buttons(node: dict, depth: int, parent: dict | None) -> bool:
    uid = node["uid"]
    buttons = st.columns(3)
    if buttons[0].button("Condition", key=f"{uid}:add", icon=":material/add:",
                         width="stretch"):
        node["children"].append(new_condition())
        return True
    if depth + 1 < MAX_DEPTH and buttons[1].button("Group", key=f"{uid}:addgroup",
                                                    icon=":material/add:", width="stretch"):
        group = new_group("any" if node["match"] == "all" else "all")
        group["children"].append(new_condition())  # an empty ANY group would match nobody
        node["children"].append(group)
        return True
    if parent is not None and buttons[2].button("Remove group", key=f"{uid}:remove",
                                                icon=":material/delete:", width="stretch"):
        parent["children"].remove(node)
        return True
    return False


def _condition(node: dict, options: dict[str, list[str]], segments: dict[int, str],
               parent: dict) -> bool:
    """One condition in its own box, so that its window and count row below it reads as
    part of it and not of the next condition."""
    with st.container(border=True):
        return _condition_rows(node, options, segments, parent)


def _condition_rows(node: dict, options: dict[str, list[str]], segments: dict[int, str],
                    parent: dict) -> bool:
    uid = node["uid"]
    fields = [name for name in FIELDS if name != "segment" or segments]
    row = st.columns([2.6, 1.8, 2.6, 0.45], vertical_alignment="bottom")
    field = row[0].selectbox("Field", fields, index=fields.index(node["field"])
                             if node["field"] in fields else 0, format_func=_field_label,
                             key=f"{uid}:field")
    spec = FIELDS[field]
    if field != node["field"]:
        node.update(field=field, op=spec.ops[0], value=_fresh_value(spec.ops[0]), window=None,
                    min_count=None, kind=None)
    op = row[1].selectbox("Operator", spec.ops, index=spec.ops.index(node["op"])
                          if node["op"] in spec.ops else 0,
                          format_func=OP_LABELS.__getitem__, key=f"{uid}:op:{field}")
    if op != node["op"]:
        kept = _shape(op) == _shape(node["op"]) != "none"
        node.update(op=op, value=node["value"] if kept else _fresh_value(op))
    with row[2]:
        node["value"] = _value(spec, op, node["value"], options, segments, f"{uid}:{field}:{op}")
    if row[3].button("", key=f"{uid}:remove", icon=":material/close:",
                     help="Remove this condition"):
        parent["children"].remove(node)
        return True
    if spec.windowed or spec.counted or spec.by_kind:
        _extras(node, spec, f"{uid}:{field}")
    if spec.help:
        st.caption(plain(spec.help))
    # Checked after the widgets above have written this run's values into the node.
    condition = Condition.model_validate({key: value for key, value in node.items()
                                          if key != "uid"})
    if problem := condition_problem(condition):
        if unfilled(condition):  # not typed yet: a hint, not an error
            st.caption(plain(problem))
        else:
            st.error(plain(problem), icon=":material/error:")
    return False


def _shape(op: str) -> str:
    """The kind of value ``op`` takes: an operator changed for one of the same shape keeps
    what was chosen or typed (has any of → has none of, is → is not, ≥ → ≤)."""
    if op in NO_VALUE_OPS:
        return "none"
    if op in SEGMENT_OPS:
        return "segment"
    if op in ("in_last_days", "more_than_days_ago"):
        return "days"
    if op in ("between_dates", "between"):
        return op  # two dates; two numbers
    if op in ("in", "not_in", *SET_OPS):
        return "list"
    return "one"


def _value(spec: FieldSpec, op: str, current: Any, options: dict[str, list[str]],
           segments: dict[int, str], key: str) -> Any:
    shape = _shape(op)
    if shape == "none":
        return None
    if shape == "segment":
        ids = list(segments)
        chosen = st.selectbox("Segment", ids, index=ids.index(current) if current in ids else
                              None, format_func=segments.__getitem__, key=key,
                              placeholder="Choose a saved segment")
        return chosen
    if shape == "days":
        days = _number_input(st, "Days", current if isinstance(current, int) else None, key,
                             min_value=1 if op == "in_last_days" else 0, step=1)
        return None if days is None else int(days)
    if shape == "between_dates":
        first, last = (current if isinstance(current, list) and len(current) == 2 else
                       [(date.today() - timedelta(days=30)).isoformat(), date.today().isoformat()])
        picked = st.date_input("Dates", value=(date.fromisoformat(first),
                                               date.fromisoformat(last)), key=key,
                               format="YYYY-MM-DD", min_value=EARLIEST, max_value=LATEST)
        if isinstance(picked, tuple) and len(picked) == 2:
            return [picked[0].isoformat(), picked[1].isoformat()]
        return None  # only one date picked so far: flagged as a problem
    choices = list(spec.choices) or list(options.get(spec.name, []))
    # Values a saved segment holds stay choosable even if no customer has them any more,
    # so opening and saving a segment never drops part of it silently.
    held = current if isinstance(current, list) else [current] if current else []
    choices += [value for value in held if isinstance(value, str) and value not in choices]
    if shape == "list":
        default = list(held)
        if choices:
            return st.multiselect("Values", choices, default=default, key=key,
                                  placeholder="Choose one or more")
        typed = st.text_input("Values (comma-separated)", value=", ".join(default), key=key)
        return [part.strip() for part in typed.split(",") if part.strip()]
    if spec.kind in ("choice", "consent") and choices:
        return st.selectbox("Value", choices, index=choices.index(current)
                            if current in choices else None, key=key,
                            placeholder="Choose a value")
    if spec.kind in ("number", "money", "decimal"):
        return _number(spec, op, current, key)
    return st.text_input("Value", value=current or "", key=key, max_chars=200,
                         help="Ignores the case of A-Z; accented letters must match as typed "
                              "(ö is not Ö).") or None


def _number(spec: FieldSpec, op: str, current: Any, key: str) -> Any:
    step: float | int = 1
    cast: type[float] | type[int] = int
    if spec.kind == "money":
        step, cast = 1.0, float
    elif spec.kind == "decimal":  # a probability by hundredths, other scores by ones
        step, cast = (0.05 if spec.maximum <= 1 else 1.0), float
    if op == "between":
        low, high = current if isinstance(current, list) and len(current) == 2 else (None, None)
        left, right = st.columns(2)
        low = _number_input(left, "From", None if low is None else cast(low), key + ":low",
                            step=step, placeholder="lowest")
        high = _number_input(right, "To", None if high is None else cast(high), key + ":high",
                             step=step, placeholder="highest")
        # Half-filled bounds are kept (and flagged), so the widgets keep what was typed.
        return [None if bound is None else _as_value(spec, cast(bound)) for bound in (low, high)]
    number = _number_input(st, spec.unit.capitalize() or "Value",
                           None if current is None else cast(current), key, step=step,
                           placeholder="a number")
    return None if number is None else _as_value(spec, cast(number))


def _fresh_value(op: str) -> Any:
    """The value a condition starts with when its operator is chosen: 30 days for the
    day-count operators, otherwise nothing (the person types it)."""
    return 30 if _shape(op) == "days" else None


def _number_input(where: Any, label: str, current: float | int | None, key: str,
                  **options: Any) -> Any:
    """A number field showing ``current`` that may be emptied, and then returns None.

    It is created with ``value=None`` every run: Streamlit returns a number field's
    ``value`` when it is emptied (and takes an empty field only from one created with
    None), so a field created with the draft's number gave back that number, one typed
    earlier, in place of the cleared one. ``current`` goes in through the field's state
    instead, and only when the field has none (its first run, or after a run that did not
    draw it): from then on the field holds what the person typed, empty included.
    """
    if key not in st.session_state:
        low = options.get("min_value")
        st.session_state[key] = None if current is None or (low is not None and current < low) \
            else current
    return where.number_input(label, value=None, key=key, **options)


def _as_value(spec: FieldSpec, number: float | int) -> Any:
    """Money as text with two decimals (exact), decimals as float, whole numbers as int."""
    if spec.kind == "decimal":
        return float(number)
    return f"{number:.2f}" if spec.kind == "money" else int(number)


def _extras(node: dict, spec: FieldSpec, key: str) -> None:
    columns = st.columns([2, 2, 1.5])
    if spec.windowed:
        window = node.get("window") or {"kind": "ever"}
        kinds = list(_WINDOW_LABELS)
        kind = columns[0].selectbox("When", kinds, index=kinds.index(window["kind"]),
                                    format_func=_WINDOW_LABELS.__getitem__, key=key + ":when")
        if kind == "ever":
            node["window"] = None
        elif kind == "last_days":
            # 90 days when the window is first set to "last N days"; then what was typed.
            days = _number_input(columns[1], "Days", window.get("days") if
                                 window["kind"] == "last_days" else 90, key + ":days",
                                 min_value=1, step=1)
            node["window"] = {"kind": "last_days", "days": None if days is None else int(days),
                              "start": None, "end": None}
        else:
            today = date.today()
            picked = columns[1].date_input(
                "Between", value=(date.fromisoformat(window["start"]) if window.get("start")
                                  else today - timedelta(days=90),
                                  date.fromisoformat(window["end"]) if window.get("end")
                                  else today), format="YYYY-MM-DD", key=key + ":between",
                min_value=EARLIEST, max_value=LATEST)
            start, end = (picked if isinstance(picked, tuple) and len(picked) == 2
                          else (None, None))
            node["window"] = {"kind": "between", "days": None,
                              "start": start.isoformat() if start else None,
                              "end": end.isoformat() if end else None}
    if not takes_min_count(spec, node["op"]):
        node["min_count"] = None  # e.g. "has none of" cannot be "at least K times"
    else:
        count = node.get("min_count")
        times = _number_input(columns[2], "At least (times)", 1 if count is None else count,
                              key + ":times", min_value=1, step=1)
        # None is "once or more"; an emptied field is 0, which is flagged, not taken as once.
        node["min_count"] = 0 if times is None else None if times == 1 else int(times)
    if spec.by_kind:
        interaction_kinds: list[str | None] = [None, *INTERACTION_KINDS]
        node["kind"] = columns[1 if not spec.windowed else 2].selectbox(
            "Kind", interaction_kinds, index=interaction_kinds.index(node.get("kind")),
            format_func=lambda k: "any kind" if k is None else k, key=key + ":kind")
