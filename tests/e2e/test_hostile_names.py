"""Stored names written as Markdown or HTML are shown as typed on every page that shows them:
no image is fetched, no link or bold text appears. A bait server on loopback stands where
the names point, and every request the browser makes is watched: none may leave this machine
(not even for the favicon or an icon), signed out or in, on any page."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from dashboard.navigation import visible_titles
from db.core.access import Actor
from db.core.engine import make_engine
from tests.e2e.conftest import DEMO_LOGINS, choose, search_lookup, sign_in, wait_for_app
from tests.factories import customer

SURNAME = "Hostile"
COUNTRY = "IS"  # the demo data has no one in Iceland: a segment of just these customers
POSTCODE = "101"


class _Bait(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []  # every path asked for, by any handler

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def bait() -> Iterator[ThreadingHTTPServer]:
    """A server on a free loopback port that records every request it receives."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Bait)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _names(port: int) -> list[str]:
    base = f"http://127.0.0.1:{port}"
    return [f"![t]({base}/md.png)", f"<img src={base}/html.png>",
            "[link](javascript:alert(1))", "**bold**"]


@pytest.fixture(scope="module")
def hostile(app_url: str, app_database: Path, bait: ThreadingHTTPServer) -> dict[str, int]:
    """The hostile customers (name → id) in the running app's database."""
    engine = make_engine(f"sqlite:///{app_database}")
    port = bait.server_address[1]
    return {name: customer(engine, name, SURNAME, country=COUNTRY, postcode=POSTCODE,
                           city=f"![c](http://127.0.0.1:{port}/city.png)").id or 0
            for name in _names(port)}


LOCAL_HOSTS = ("127.0.0.1", "localhost")


def _outside(seen: list[str]) -> list[str]:
    """The requests in ``seen`` that went to another machine (data: and blob: stay local)."""
    return [url for url in seen if urlsplit(url).scheme not in ("data", "blob")
            and urlsplit(url).hostname not in LOCAL_HOSTS]


def _assert_nothing_injected(page: Page, port: int, seen: list[str]) -> None:
    wait_for_app(page)
    page.wait_for_timeout(500)  # an injected image would be requested by now
    assert page.locator(f"img[src*='{port}']").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    # (A heading's own anchor, "#t-h-ttp-127-0-0-1-…", is Streamlit's and harmless.)
    assert page.locator(f"a[href*='127.0.0.1:{port}']").count() == 0
    assert page.locator("strong", has_text="bold").count() == 0
    assert [url for url in seen if f":{port}" in url] == []
    assert _outside(seen) == []


def test_hostile_names_render_as_typed_everywhere(page: Page, app_url: str,
                                                  hostile: dict[str, int],
                                                  bait: ThreadingHTTPServer) -> None:
    port = bait.server_address[1]
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    sign_in(page, app_url, "admin")

    grid = search_lookup(page, SURNAME)
    expect(grid).to_be_visible()
    _assert_nothing_injected(page, port, seen)

    for name, customer_id in hostile.items():
        page.goto(f"{app_url}/customer?customer={customer_id}")
        wait_for_app(page)
        shown_as_typed = f"{name} {SURNAME}"
        expect(page.get_by_role("heading", level=1)).to_contain_text(shown_as_typed)
        _assert_nothing_injected(page, port, seen)

    page.get_by_test_id("stSidebar").get_by_role("link", name="New customer").click()
    wait_for_app(page)
    first = next(iter(hostile))
    page.get_by_role("textbox", name="First name *").fill(first)
    page.get_by_role("textbox", name="Last name *").fill(SURNAME)
    page.get_by_role("textbox", name="Postcode").fill(POSTCODE)
    page.get_by_role("textbox", name="Country (ISO code) *").fill(COUNTRY)
    page.get_by_role("button", name="Create customer").click()
    wait_for_app(page)
    expect(page.get_by_text("This looks like an existing customer")).to_be_visible()
    _assert_nothing_injected(page, port, seen)
    candidate = f"#{hostile[first]} {first} {SURNAME}"
    expect(page.get_by_text(candidate)).to_be_visible()

    page.get_by_test_id("stSidebar").get_by_role("link", name="Segments").click()
    wait_for_app(page)
    choose(page, "Value", COUNTRY)
    expect(page.get_by_test_id("stMetric").filter(has_text="Members")).to_contain_text(
        str(len(hostile)))
    _assert_nothing_injected(page, port, seen)

    assert _Bait.requests == []


@pytest.mark.parametrize("role", list(DEMO_LOGINS))
def test_no_page_asks_another_machine_for_anything(page: Page, app_url: str, role: str) -> None:
    """The favicon was a Google-hosted Material symbol, fetched on every load by every
    visitor, signed in or not: the app must work on a machine with no internet and tell
    no one who uses it."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.goto(app_url)
    wait_for_app(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.wait_for_timeout(500)  # the favicon is asked for after the page has drawn
    assert _outside(seen) == [], "signed out"
    sign_in(page, app_url, role)
    for title in visible_titles(Actor(role, role)):
        page.get_by_test_id("stSidebar").get_by_role("link", name=title).click()
        wait_for_app(page)
        page.wait_for_timeout(300)
        assert _outside(seen) == [], title
    page.goto(f"{app_url}/customer?customer=1")  # a profile, reached by link only
    wait_for_app(page)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.wait_for_timeout(500)
    assert _outside(seen) == [], "profile"
