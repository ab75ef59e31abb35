"""The browser benchmark's "settled": from the script state, or, when the browser never
shows the state change, from when the page last changed (never 0 s); and its "drawn": not
before the browser's last long task after it has ended."""

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
    settled = _settled(page, lambda: page.evaluate("""() => {
        const app = document.querySelector('[data-testid="stApp"]');
        setTimeout(() => app.setAttribute('data-test-script-state', 'running'), 100);
        setTimeout(() => app.setAttribute('data-test-script-state', 'notRunning'), 600);
    }"""))
    assert settled.script is not None and 0.55 <= settled.script < 1.5
    assert settled.drawn is not None and settled.script <= settled.drawn < 1.5


def test_drawing_after_the_run_ends_counts_as_drawn_not_as_settled(page: Page) -> None:
    settled = _settled(page, lambda: page.evaluate("""() => {
        const app = document.querySelector('[data-testid="stApp"]');
        setTimeout(() => app.setAttribute('data-test-script-state', 'running'), 100);
        setTimeout(() => app.setAttribute('data-test-script-state', 'notRunning'), 600);
        setTimeout(() => {  // the charts drawn once the script has sent them
            const start = performance.now();
            while (performance.now() - start < 300) {}
        }, 650);
    }"""))
    assert settled.script is not None and 0.55 <= settled.script < 0.9
    assert settled.drawn is not None and 0.9 <= settled.drawn < 2.0


def test_a_page_drawn_without_a_state_change_settles_when_it_last_changed(
        page: Page) -> None:
    settled = _settled(page, lambda: page.evaluate("""() => {
        setTimeout(() => document.getElementById('shown').textContent = 'next page', 450);
    }"""))
    assert settled.script is not None and 0.4 <= settled.script < 1.5
