"""Simulate a click that arrives while a page is writing, in an AppTest.

In a served app every Streamlit call and Session State access is a point where a click that
arrived meanwhile stops the run (Streamlit raises there, before the operation). AppTest sends
clicks only between runs, so :func:`cut_after` asks for that stop from inside the run: once
the patched service call returns, the run ends at its next Streamlit call, as if the second
click of a double click had come during the write. The test then clicks again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx


def cut_after(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[Any]:
    """Patch ``module.name`` so its first call, once it returned, stops the run at the next
    Streamlit call. Returns the list of what each call returned (to assert on)."""
    real: Callable[..., Any] = getattr(module, name)
    results: list[Any] = []

    def once_then_stopped(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        results.append(result)
        if len(results) == 1:
            ctx = get_script_run_ctx()
            assert ctx is not None
            ctx.script_requests.request_stop()
        return result

    monkeypatch.setattr(module, name, once_then_stopped)
    return results
