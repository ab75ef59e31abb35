"""Typed text that may be stored: the one rule on control characters every write shares.

A NUL cannot be stored at all (PostgreSQL refuses it, so a write would fail with a database
error), and the other control characters nobody types on purpose corrupt exports, logs and
terminals. Refused everywhere: C0 except tab and line breaks, DEL, C1. Tabs and line breaks
are allowed only in multi-line fields (a summary, a description); a name or subject is one
line. ``db.customers.validation.check_text`` raises this as the services' field error.
"""

from __future__ import annotations

import re

_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\t\n\r]")
_LINE_BREAK_NAMES = {"\t": "tab", "\n": "line break", "\r": "line break"}


def control_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored as typed (naming the first offending character and
    where it is), or None when it can."""
    control = _CONTROLS.search(value)
    if control:
        return (f"Remove the invisible control character (U+{ord(control[0]):04X}) at "
                f"position {control.start() + 1}; it cannot be stored.")
    if not multiline and (line_break := _LINE_BREAKS.search(value)):
        return (f"Remove the {_LINE_BREAK_NAMES[line_break[0]]} at position "
                f"{line_break.start() + 1}: this field is a single line.")
    return None
