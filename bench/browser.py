"""What a user waits for in the browser: click → page settled, per role, cold and warm.

``python -m bench.browser run --path FILE`` serves the app (``streamlit run``) over the SQLite
database ``FILE`` (or ``run --url URL`` over any ``DATABASE_URL``, e.g. PostgreSQL) and drives
Debian's Chromium with Playwright (as ``tests/e2e`` do; it never downloads a browser). For each
role it restarts the app's server, so the first pass is cold (first after a server start; the
operating system's file cache and PostgreSQL's buffers stay warm), then repeats the pass in
a new browser session ``--repeat`` times (warm). A pass signs in, opens every page of the
role's menu in menu order, and for the manager also: the Segments builder's first preview
(a country chosen), the preview after adding a second condition, a Lookup search for a
customer's e-mail and that customer's profile opened from the result (the daily way, in the
same page), then the same profile and the KPI page narrowed to a saved segment opened by link
(a page load: Streamlit's frontend starts anew, which no page code shortens).

Settled means ``[data-testid="stApp"]`` reports ``notRunning`` and stays so for 300 ms: a
script observing the attribute records when it last became idle; the figure is that moment
minus the click (or, for a link opened, minus the navigation start). Drawn, reported beside
it, is the later of that moment, the end of the browser's last long task (50 ms or more of
the main thread: drawing charts and tables once the script has sent them) and the last
element added to or taken from the page, once :data:`DRAWN_QUIET_MS` passed without either.
The KPI page's charts are drawn in bursts up to 0.4 s apart for 0.9–1.6 s after its script
ended, so settled alone under-reported what a user waits for; every step now waits until
drawn before the next click, so that one page's drawing is not counted in the next one's
figure (Predictions after the KPI page: 0.9 s, against 0.1 s three seconds later).

``prepare`` adds what the scenarios need when missing (the demo users, through the users
service; a saved dynamic segment), ``db`` times the calls behind the same pages in a fresh
process (first call, then the median of three), so page overhead is visible beside them.
Every subcommand prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from db.setup import DEMO_USERS

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                  "--disable-quic", "--no-first-run", "--disable-component-update",
                  "--disable-sync", "--disable-dev-shm-usage"]
LOGINS = {username: password for username, _, _, password in DEMO_USERS}
INTERACTIVE_ROLE = "manager"  # the role the issue measured the interactions as
SEGMENT_NAME = "bench: recent book buyers in DE or AT"
STABLE_MS = 300
DRAWN_QUIET_MS = 500  # longer than the gaps between the KPI page's bursts of drawing
TIMEOUT_S = 180.0


def launch(playwright: Any) -> Any:
    """Debian's Chromium, headless, with :data:`CHROMIUM_FLAGS` (never a downloaded browser);
    the benchmark and the browser tests launch it the same way (each checks first that
    :data:`CHROMIUM` exists, and says so its own way)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=CHROMIUM_FLAGS)


# Records when the app's script state last changed, when the page last changed at all
# (``drawnAt``) and when the main thread's last long task ended (``busyUntil``), in the
# page's own clock.
OBSERVER = """
window.__settle = {changes: 0, state: null, idleAt: 0, drawnAt: 0, busyUntil: 0};
new PerformanceObserver((list) => {
  for (const task of list.getEntries()) {
    window.__settle.busyUntil = Math.max(window.__settle.busyUntil,
                                         task.startTime + task.duration);
  }
}).observe({type: 'longtask'});
new MutationObserver(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const state = app ? app.getAttribute('data-test-script-state') : null;
  window.__settle.drawnAt = performance.now();
  if (state !== window.__settle.state) {
    window.__settle.state = state;
    window.__settle.changes += 1;
    if (state === 'notRunning') window.__settle.idleAt = performance.now();
  }
}).observe(document, {attributes: true, childList: true, subtree: true,
                      attributeFilter: ['data-test-script-state']});
"""
READ = "() => ({...window.__settle, now: performance.now()})"
# What a PostgreSQL run reports beside its figures (they decide its plans and its speed).
SERVER_SETTINGS = ("server_version", "shared_buffers", "work_mem", "effective_cache_size",
                   "max_parallel_workers_per_gather", "jit")


# -- prepare and db: in the database's own process ------------------------------------


def prepare(url: str) -> dict[str, Any]:
    """Add the demo users and the saved segment when missing; what the scenarios need."""
    from sqlalchemy import func, select

    from bench.segments import DEFINITIONS
    from db.core.access import Actor
    from db.core.engine import get_engine
    from db.core.sql import table_of
    from db.models import Customer, Segment, User
    from db.segments import service as segments
    from db.setup import DEMO_USERS
    from db.users.service import create_user

    engine = get_engine(url)
    setup_actor = Actor("bench", "admin")
    with engine.connect() as connection:
        users = set(connection.execute(select(table_of(User).c.username)).scalars())
        segment_id = connection.execute(select(table_of(Segment).c.id).where(
            table_of(Segment).c.name == SEGMENT_NAME)).scalar()
        customers = table_of(Customer).c
        customer_id = connection.execute(select(func.min(customers.id)).where(
            customers.deleted_at.is_(None), customers.erased_at.is_(None),
            customers.email.is_not(None))).scalar_one()
        email = connection.execute(select(customers.email).where(
            customers.id == customer_id)).scalar_one()
        countries = list(connection.execute(
            select(customers.country).group_by(customers.country)
            .order_by(func.count().desc(), customers.country).limit(12)).scalars())
    for username, name, role, password in DEMO_USERS:
        if username not in users:
            create_user(setup_actor, username=username, display_name=name, role=role,
                        password=password, source="system", engine=engine)
    if segment_id is None:
        segment_id = segments.save_segment(
            setup_actor, name=SEGMENT_NAME, description=None, kind="dynamic",
            definition=DEFINITIONS["recent book buyers in DE or AT"], engine=engine).id
    return {"segment_id": segment_id, "customer_id": customer_id, "email": email,
            "countries": [country for country in countries if country]}


def db_level(url: str, segment_id: int, customer_id: int, email: str,
             countries: list[str]) -> dict:
    """The calls behind each page, in this fresh process: first call and median of three."""
    from db.core.access import Actor
    from db.core.engine import get_engine
    from db.core.types import utcnow
    from db.customers import profile
    from db.customers.overview import database_overview
    from db.kpi import board
    from db.kpi.filters import Filters
    from db.kpi.periods import as_of, preset
    from db.search.ranking import search_customers
    from db.segments import preview
    from db.segments.definition import Condition, Group

    engine = get_engine(url)
    manager = Actor(INTERACTIVE_ROLE, INTERACTIVE_ROLE)
    today = utcnow().date()

    def kpis(filters: Filters) -> object:
        days = board.order_days(manager, engine=engine)
        anchor = as_of(today, days.last if days else None)
        return board.dashboard(manager, preset("last_90", anchor), "week", filters,
                               today=today, as_of=anchor, engine=engine)

    def first_preview() -> object:
        # As the page: all customers counted once per data version (at sign-in, in the
        # background; here the first call counts them, the next ones find them).
        everyone = preview.population(manager, version=board.data_version(engine=engine),
                                      engine=engine)
        return preview.preview(manager, Group(children=[
            Condition(field="country", op="eq", value=countries[0])]), everyone=everyone,
            engine=engine)

    everyone = preview.population(manager, engine=engine)
    calls: dict[str, Callable[[], object]] = {
        "sign-in → home": lambda: (board.data_version(engine=engine),
                                   database_overview(manager, engine=engine)),
        "KPIs": lambda: (board.data_version(engine=engine), kpis(Filters())),
        "Segments: first open": lambda: preview.field_options(manager, engine=engine),
        "Segments: first preview": first_preview,
        "Segments: preview after adding a condition": lambda: preview.preview(
            manager, Group(children=[
                Condition(field="country", op="eq", value=countries[0]),
                Condition(field="country", op="eq", value=countries[0])]),
            everyone=everyone, engine=engine),
        "Lookup: search for an e-mail": lambda: search_customers(manager, email,
                                                                 engine=engine),
        "customer profile (link)": lambda: (
            profile.figures(manager, customer_id, engine=engine),
            profile.orders(manager, customer_id, engine=engine),
            profile.interactions(manager, customer_id, engine=engine)),
        "KPIs with a saved segment (link)": lambda: kpis(Filters(segment_id=segment_id)),
    }
    calls["customer profile (from Lookup)"] = calls["customer profile (link)"]
    timed = {}
    for name, call in calls.items():
        runs = []
        for _ in range(4):
            started = time.perf_counter()
            call()
            runs.append(time.perf_counter() - started)
        timed[name] = {"first_s": runs[0], "median_s": statistics.median(runs[1:])}
    return timed


# -- run: the server and the browser ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``streamlit run dashboard/app.py`` on a free port over ``url``."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise TimeoutError("streamlit did not become healthy")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


@dataclass(frozen=True)
class Settled:
    """Seconds from a click (or a link opened) until the script settled and until the page
    was drawn (see the module); None when not within the timeout."""

    script: float | None
    drawn: float | None


def _settled(page: Any, action: Callable[[], None], *, navigation: bool = False) -> Settled:
    """Run ``action`` (a click, or opening a link) and wait until the app has settled and
    the browser has drawn the page.

    Settled: the script state is "not running" and has been for :data:`STABLE_MS`. A page
    whose run the browser draws without ever showing "running" (seen with Predictions after
    the KPI page: the page changes, the state attribute never does) is settled when it last
    changed, found once 2 s have passed without a state change; it used to count as 0 s.
    Drawn: settled, and neither a long task nor a change of the page's elements for
    :data:`DRAWN_QUIET_MS`."""
    before = None if navigation else page.evaluate(READ)
    action()
    deadline = time.monotonic() + TIMEOUT_S
    script: float | None = None
    while time.monotonic() < deadline:
        try:
            seen = page.evaluate(READ)
        except Exception:  # the document is being replaced
            time.sleep(0.05)
            continue
        start = 0.0 if before is None else before["now"]
        if script is None:
            moved = before is None or seen["changes"] > before["changes"] or (
                seen["now"] - before["now"] > 2000)
            if (moved and seen["state"] == "notRunning"
                    and seen["now"] - seen["idleAt"] >= STABLE_MS):
                settled_at = seen["idleAt"] if seen["idleAt"] > start else seen["drawnAt"]
                if settled_at <= start:
                    return Settled(None, None)
                script = (settled_at - start) / 1000
        if script is not None:
            quiet_from = max(start + script * 1000, seen["busyUntil"], seen["drawnAt"])
            if seen["now"] - quiet_from >= DRAWN_QUIET_MS:
                return Settled(script, (quiet_from - start) / 1000)
        time.sleep(0.02)
    return Settled(script, None)


def _choose(page: Any, nth: int, option: str) -> Settled:
    """Pick ``option`` in the ``nth`` select box labelled Value; when it settled."""
    combo = page.get_by_test_id("stSelectbox").filter(has_text="Value").nth(nth).get_by_role(
        "combobox")
    combo.click()
    combo.fill(option)
    choice = page.get_by_role("option").filter(has_text=option).first
    return _settled(page, choice.click)


def open_first_row(page: Any, grid: Any) -> None:
    """Click the selection cell of a results grid's first row (on Lookup, which opens that
    profile); the browser tests click it the same way."""
    box = grid.bounding_box()
    assert box is not None, "the grid is not on the page"
    page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)


def _one_pass(browser: Any, base: str, role: str, facts: dict,
              index: int) -> dict[str, Settled]:
    """Sign in as ``role`` in a new session and time each step; when each settled."""
    from dashboard.navigation import visible_titles
    from db.core.access import Actor

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(OBSERVER)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_S * 1000)
    times: dict[str, Settled] = {}
    try:
        page.goto(base)
        _settled(page, lambda: None, navigation=True)
        page.get_by_role("textbox", name="Username").fill(role)
        page.get_by_role("textbox", name="Password").fill(LOGINS[role])
        times["sign-in → home"] = _settled(
            page, page.get_by_role("button", name="Sign in").click)
        while not any(c["name"] == "custdb_session" for c in context.cookies()):
            page.wait_for_timeout(50)
        sidebar = page.get_by_test_id("stSidebar")
        for title in visible_titles(Actor(role, role)):
            if title == "Home":
                continue
            link = sidebar.get_by_role("link", name=title, exact=False).first
            times[f"{title}" + (": first open" if title == "Segments" else "")] = _settled(
                page, link.click)
        if role == INTERACTIVE_ROLE:
            countries = facts["countries"]
            _settled(page, sidebar.get_by_role("link", name="Segments").first.click)
            times["Segments: first preview"] = _choose(
                page, 0, countries[index % len(countries)])
            times["Segments: preview after adding a condition"] = Settled(None, None)
            if _settled(page, page.get_by_role("button", name="Condition").first.click).drawn:
                # The same country again: a new definition with the same members, so the
                # preview is counted afresh and draws its charts (another country would
                # match nobody).
                times["Segments: preview after adding a condition"] = _choose(
                    page, 1, countries[index % len(countries)])
            # The daily way to a profile: search, then select the row (no page load).
            _settled(page, sidebar.get_by_role("link", name="Lookup").first.click)
            page.get_by_role("textbox", name="Search").fill(facts["email"])
            times["Lookup: search for an e-mail"] = _settled(
                page, lambda: page.keyboard.press("Enter"))
            grid = page.get_by_test_id("stDataFrame").first
            times["customer profile (from Lookup)"] = _settled(
                page, lambda: open_first_row(page, grid))
            times["customer profile (link)"] = _settled(
                page, lambda: page.goto(f"{base}/customer?customer={facts['customer_id']}"),
                navigation=True)
            times["KPIs with a saved segment (link)"] = _settled(
                page, lambda: page.goto(f"{base}/kpis?segment={facts['segment_id']}"),
                navigation=True)
    finally:
        context.close()
    return times


def _figures(passes: list[Settled]) -> dict[str, Any]:
    """One step's figures over the passes (the first cold): settled and drawn, cold and the
    warm passes' median (None when one timed out), and each warm pass."""
    def median(values: list[float | None]) -> float | None:
        return None if not values or None in values else statistics.median(
            [value for value in values if value is not None])

    cold, warm = passes[0], passes[1:]
    return {"cold_s": cold.script, "warm_s": median([p.script for p in warm]),
            "warm_runs": [p.script for p in warm],
            "drawn_cold_s": cold.drawn, "drawn_warm_s": median([p.drawn for p in warm]),
            "drawn_warm_runs": [p.drawn for p in warm]}


def engine_name(url: str) -> str:
    """The engine a database URL names, as the results headings spell it."""
    from sqlalchemy.engine import make_url

    backend = make_url(url).get_backend_name()
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(backend, backend)


def side_file(url: str, suffix: str) -> Path:
    """Where the run keeps a file that belongs to the database at ``url`` (its audit key, the
    server's log): beside a SQLite file, as before; for a server database under
    ``data/bench/``, named after its host, port and database (never its password)."""
    from sqlalchemy.engine import make_url

    from bench.harness import CACHE_DIR

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        path = Path(parsed.database)
        return path.with_name(path.name + suffix)
    parts = [parsed.get_backend_name(), parsed.host or "local", str(parsed.port or ""),
             parsed.database or ""]
    name = "-".join(part for part in parts if part)
    return CACHE_DIR / ("".join(c if c.isalnum() or c in "._-" else "_" for c in name) + suffix)


def run(url: str, repeat: int, roles: list[str]) -> dict:
    from playwright.sync_api import sync_playwright
    from sqlalchemy import text

    from bench.harness import run_child
    from db.core.engine import make_engine
    from db.core.keys import new_key
    from db.migrate import upgrade

    if not CHROMIUM.exists():
        raise SystemExit("Debian's chromium is not installed (apt-get install chromium)")
    load_before = os.getloadavg()
    started = time.perf_counter()
    upgrade(url)
    migrate_s = time.perf_counter() - started
    key_file = side_file(url, ".audit-key")
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    env = os.environ | {"DATABASE_URL": url, "CUSTDB_COOKIE_KEY": new_key(),
                        "CUSTDB_AUDIT_KEY": key_file.read_text().strip()}
    facts, _ = run_child("bench.browser", ["prepare", "--url", url], env=env)
    db_figures, _ = run_child("bench.browser", [
        "db", "--url", url, "--segment", str(facts["segment_id"]), "--customer",
        str(facts["customer_id"]), "--email", facts["email"],
        "--countries", *facts["countries"][:2]], env=env)
    results: dict[str, dict[str, dict]] = {}
    log = side_file(url, ".streamlit.log")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            for role in roles:
                server = Server(env, log)
                try:
                    passes = [_one_pass(browser, server.url, role, facts, index)
                              for index in range(repeat + 1)]
                finally:
                    server.stop()
                results[role] = {step: _figures([p[step] for p in passes])
                                 for step in passes[0]}
                print(json.dumps({role: results[role]}), file=sys.stderr, flush=True)
        finally:
            browser.close()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            customers, orders = connection.execute(text(
                "SELECT (SELECT count(*) FROM customer), (SELECT count(*) FROM orders)")).one()
            settings = {} if engine.dialect.name == "sqlite" else {
                name: connection.execute(text("SELECT current_setting(:name)"),
                                         {"name": name}).scalar_one()
                for name in SERVER_SETTINGS}
    finally:
        engine.dispose()
    return {"engine": engine_name(url), "customers": customers, "orders": orders,
            "settings": settings, "repeat": repeat, "migrate_s": migrate_s,
            "results": results, "db": db_figures,
            "load": [load_before, os.getloadavg()], "day": date.today().isoformat()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    prep = commands.add_parser("prepare")
    prep.add_argument("--url", required=True)
    level = commands.add_parser("db")
    level.add_argument("--url", required=True)
    level.add_argument("--segment", type=int, required=True)
    level.add_argument("--customer", type=int, required=True)
    level.add_argument("--email", required=True)
    level.add_argument("--countries", nargs="+", required=True)
    browse = commands.add_parser("run")
    database = browse.add_mutually_exclusive_group(required=True)
    database.add_argument("--path", type=Path, help="a SQLite file")
    database.add_argument("--url", help="any DATABASE_URL, e.g. postgresql+psycopg://...")
    browse.add_argument("--repeat", type=int, default=5)
    browse.add_argument("--roles", nargs="+", default=list(LOGINS))
    args = parser.parse_args()
    if args.command == "prepare":
        report = prepare(args.url)
    elif args.command == "db":
        report = db_level(args.url, args.segment, args.customer, args.email, args.countries)
    else:
        report = run(args.url or f"sqlite:///{args.path}", args.repeat, args.roles)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
