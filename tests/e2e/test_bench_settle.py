"""The browser benchmark's "settled": from the script state, or, when the browser never
shows the state change, from when the page last changed (never 0 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from bench.browser import OBSERVER, _settled

APP = ('<div data-testid="stApp" data-test-script-state="notRunning">'
       '<p id="shown">before</p></div>')


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A stand-in app page, drawn once and stable, watched by the benchmark's observer (the
    browser is the e2e tests' one: a second Playwright in one worker is refused)."""
    context = browser.new_context()
    context.add_init_script(OBSERVER)
    opened = context.new_page()
    opened.goto("data:text/html," + APP)
    opened.evaluate("() => document.getElementById('shown').textContent = 'drawn'")
    opened.wait_for_timeout(400)
    yield opened
    context.close()


def test_a_run_the_browser_shows_settles_when_it_ends(page: Page) -> None:
    seconds = _settled(page, lambda: page.evaluate("""() => {
        const app = document.querySelector('[data-testid="stApp"]');
        setTimeout(() => app.setAttribute('data-test-script-state', 'running'), 100);
        setTimeout(() => app.setAttribute('data-test-script-state', 'notRunning'), 600);
    }"""))
    assert seconds is not None and 0.55 <= seconds < 1.5


def test_a_page_drawn_without_a_state_change_settles_when_it_last_changed(
        page: Page) -> None:
    seconds = _settled(page, lambda: page.evaluate("""() => {
        setTimeout(() => document.getElementById('shown').textContent = 'next page', 450);
    }"""))
    assert seconds is not None and 0.4 <= seconds < 1.5
