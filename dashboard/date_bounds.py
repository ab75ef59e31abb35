"""The bounds every date picker gets, so that no typed date is dropped before a rule sees it.

``st.date_input`` refuses a date outside its ``min_value``..``max_value`` twice over: the
browser marks the box with a "!" and never sends it, and the server turns a value out of
range back into the default. Without explicit bounds they are ten years either side of today
(or of the value), so a birth date or an old order window could not even be typed, and a
form submitted with such a date went on without it. Pickers therefore take :data:`EARLIEST`
and :data:`LATEST`, and the service that receives the date decides, with a message beside
the field (e.g. ``check_birth_date``: not in the future, not older than 120 years).

The earliest is year 1000, not 1: the browser's field neither sends nor flags a date with a
year under 1000 (say "185" typed for "1985"), while below this bound it at least says "Date
set outside allowed range". The latest leaves the services room to add a day to the end
of a range (``date.max`` plus a day overflows) and is still far past any date a rule allows.
"""

from __future__ import annotations

from datetime import date

EARLIEST = date(1000, 1, 1)
LATEST = date(2999, 12, 31)
