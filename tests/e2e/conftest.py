"""Browser tests: the real app served by ``streamlit run``, driven in Debian's Chromium.

A module-scoped server per test file starts on a free port with its own small demo database
(SQLite, seeded by ``python -m db.setup``) and a generated cookie key. Playwright drives
``/usr/bin/chromium``; it never downloads a browser of its own.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Generator, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from pytest import CallInfo, Item, TestReport

from bench.browser import CHROMIUM, LOGINS, launch
from db.core.keys import new_key

ROOT = Path(__file__).resolve().parents[2]
# The same browser, flags and logins as the browser benchmark: Debian's Chromium, never a
# downloaded one, and the demo accounts ``db.setup`` creates.
DEMO_LOGINS = LOGINS

pytestmark = pytest.mark.e2e
# The suite runs on two workers beside PostgreSQL; a loaded machine can take longer than
# Playwright's default 5 s to rerun a script, so assertions wait up to 20 s.
expect.set_options(timeout=20_000)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError("streamlit did not become healthy in time")


@pytest.fixture(scope="module")
def app_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this module's server keeps its SQLite database (for tests to read)."""
    return tmp_path_factory.mktemp("e2e") / "custdb.sqlite"


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database as ``python -m db.setup`` leaves it (migrated, the demo users and 300 demo
    customers), made once per worker: each module's server gets a copy of it.

    Why: the setup took 5–10 s per module, a minute of the suite's time, for the same
    database every time."""
    database = tmp_path_factory.mktemp("e2e-seed") / "custdb.sqlite"
    env = os.environ | {"DATABASE_URL": f"sqlite:///{database}",
                        "CUSTDB_DEMO_CUSTOMERS": "300"}
    subprocess.run([sys.executable, "-m", "db.setup"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    return database


@pytest.fixture(scope="module")
def app_url(app_database: Path, seeded_database: Path) -> Iterator[str]:
    """Base URL of a running custdb with the demo users and 300 demo customers, on a copy
    of :func:`seeded_database` of its own."""
    workdir = app_database.parent
    # SQLite's backup API: a consistent copy, whatever the seed's write-ahead log holds.
    with closing(sqlite3.connect(seeded_database)) as seed, \
            closing(sqlite3.connect(app_database)) as copy:
        seed.backup(copy)
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{app_database}",
        "CUSTDB_DEMO_CUSTOMERS": "300",
        "CUSTDB_COOKIE_KEY": new_key(),
    }
    port = _free_port()
    log = (workdir / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


# How much of the server's log a failed browser test shows: enough for a traceback.
LOG_TAIL_LINES = 60


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: Item, call: CallInfo[None]) -> Generator[
        None, TestReport, TestReport]:
    """A failed browser test shows the end of its server's log beside Playwright's error.

    Why: a page that failed in the server (an exception, a lock that timed out) looks in the
    browser only like a button that never appeared; CI keeps nothing but the report."""
    report = yield
    database = getattr(item, "funcargs", {}).get("app_database")
    if report.when == "call" and report.failed and isinstance(database, Path):
        log = database.parent / "streamlit.log"
        if log.exists():
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()
            report.sections.append(("streamlit log (end)",
                                    "\n".join(tail[-LOG_TAIL_LINES:])))
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed (make test installs it)")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def wait_for_app(page: Page) -> None:
    """Wait until Streamlit has finished running the script for the current view.

    The short pause first lets a rerun that a click has just asked for begin; otherwise the
    state can still read "notRunning" from before it (Streamlit's own e2e helper does the same).
    """
    page.wait_for_timeout(300)
    expect(page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")
           ).to_be_attached()


def open_tab(page: Page, name: str) -> None:
    """Open the tab ``name``, as a user would: click it, and click again if it did not open.

    A tab clicked within moments of a run finishing can stay closed: Chromium at times lost
    the click while Streamlit was still laying out the page it had just sent (the erasure
    flow failed so 2 of 3 times on an idle machine; 2 s later the same click always opened
    the tab)."""
    tab = page.get_by_role("tab", name=name)
    for _ in range(5):
        tab.click()
        try:
            expect(tab).to_have_attribute("aria-selected", "true", timeout=2_000)
        except AssertionError:
            continue
        wait_for_app(page)
        return
    expect(tab).to_have_attribute("aria-selected", "true")


def choose(page: Page, label: str, option: str) -> None:
    """Pick the first option starting with ``option`` in the select box labelled ``label``."""
    combo = page.get_by_test_id("stSelectbox").filter(has_text=label).get_by_role("combobox")
    combo.click()
    combo.fill(option)
    page.get_by_role("option").filter(has_text=option).first.click()
    expect(page.get_by_role("listbox")).to_have_count(0)
    wait_for_app(page)


def sign_in(page: Page, app_url: str, username: str) -> None:
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(DEMO_LOGINS[username])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    wait_for_app(page)
    wait_for_session_cookie(page)


def wait_for_session_cookie(page: Page, timeout: float = 20) -> None:
    """Wait until the browser has stored the sign-in cookie.

    A component frame writes it after the home page shows (a fraction of a second on a cold
    page); a reload before then signs the person out, so tests that reload wait for it.
    """
    deadline = time.monotonic() + timeout
    while not any(cookie["name"] == "custdb_session" for cookie in page.context.cookies()):
        if time.monotonic() > deadline:
            raise AssertionError("the sign-in cookie was never stored")
        page.wait_for_timeout(100)


def cut_off_figures(page: Page) -> list[str]:
    """The headline figures (``st.metric`` values) on the page that do not fit their box.

    Streamlit cuts a value with an ellipsis inside the value element or its child, so a
    figure counts as cut when either is wider than its box.
    """
    return page.eval_on_selector_all(
        "[data-testid='stMetricValue']",
        "nodes => nodes.filter(n => [n, ...n.querySelectorAll('*')].some("
        "e => e.scrollWidth > e.clientWidth + 1)).map(n => n.innerText)")


def search_lookup(page: Page, term: str) -> Locator:
    """Go to Lookup through the menu, search for ``term``; the results grid."""
    page.get_by_test_id("stSidebar").get_by_role("link", name="Lookup").click()
    wait_for_app(page)
    page.get_by_role("textbox", name="Search").fill(term)
    page.keyboard.press("Enter")
    wait_for_app(page)
    return page.get_by_test_id("stDataFrame").first


def reaches_the_lock(page: Page) -> None:
    """After a click inside :func:`writes_waiting`: wait until its run has started, then
    long enough for it to reach its write, where the held lock stops it. A fixed second
    from the click was not enough on a loaded machine: the next click then arrived first."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='running']",
                           timeout=20_000)
    page.wait_for_timeout(1_500)


@contextmanager
def writes_waiting(page: Page, database: Path) -> Iterator[None]:
    """Hold the database's write lock while the block clicks: the first click's write waits
    for it, so the next clicks arrive while that run is still going, every time rather than
    once in many runs. On leaving, the lock goes and the app is left to settle."""
    blocker = sqlite3.connect(database, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        yield
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    wait_for_app(page)
    page.wait_for_timeout(500)
    wait_for_app(page)
