"""One model fit at a time from the app: "Refit now" clicked twice, or by two admins,
starts one fit.

The guard is a lock and a plain dict of this server process, taken before the fit starts
and released when it ends, not Session State: Streamlit may stop a run at any Session State
access once another click arrives, so bookkeeping written there after the fit's commit can
be cut off. A second click handled after the first fit finished (Streamlit queues it until
the running run reaches its next call) finds a fit stored seconds ago and is refused too,
since it would refit on the same data.
"""

from __future__ import annotations

import threading
from datetime import datetime

from db.core.access import Actor
from db.core.types import utcnow
from db.predict.service import FitInfo, fit_and_store, latest_fit

RECENT_SECONDS = 30  # a refit this soon after the last fit is a repeated click
_LOCK = threading.Lock()
RUNNING: dict[str, object] = {}  # "by" and "since" of the fit this server is running


class RefitRefused(RuntimeError):
    """A fit is running, or one was stored seconds ago: nothing was started."""


def refit(actor: Actor, *, now: datetime | None = None) -> FitInfo:
    """Fit and store (:func:`db.predict.service.fit_and_store`, which checks the role),
    unless a fit is already running here or finished less than :data:`RECENT_SECONDS` ago."""
    if not _LOCK.acquire(blocking=False):
        since = RUNNING.get("since")
        raise RefitRefused(
            f"A fit is already running (started by {RUNNING.get('by', 'someone')}"
            + (f" at {since:%H:%M:%S} UTC" if isinstance(since, datetime) else "")
            + "). Its scores show here when it is done; no second fit was started.")
    try:
        RUNNING.update(by=actor.username, since=utcnow())
        last = latest_fit(actor)
        if last is not None:
            seconds = ((now or utcnow()) - last.fitted_at).total_seconds()
            if 0 <= seconds < RECENT_SECONDS:
                raise RefitRefused(
                    f"The model was fitted {seconds:.0f} s ago (by {last.fitted_by}); "
                    f"no second fit was started. Refit again after {RECENT_SECONDS} "
                    "seconds if the data changed.")
        return fit_and_store(actor)
    finally:
        RUNNING.clear()
        _LOCK.release()
