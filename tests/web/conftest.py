"""Browser fixtures: the app on a real port (SQLite, clock frozen at T0) and Debian's Chromium via Playwright.

Without Chromium or Playwright the browser tests skip with one line saying how to install them
(`make browser`); under CI=true they fail instead, so CI can never pass without having run them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from service.app import create_app
from service.core.clock import FrozenClock
from tests.conftest import IN_CI, PASSWORD, T0, Tenant, fresh_database, make_tenant, settings_for
from tests.live import LiveServer as Live
from tests.live import health_probe, start_logged, start_server, stop_server, thread_stacks

CHROMIUM = os.environ.get("TMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
TABLET = {"width": 1024, "height": 768}
DESKTOP = {"width": 1280, "height": 900}


def _missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python package 'playwright' is not installed (pip install -e '.[test]')"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"{CHROMIUM} is missing: run `make browser` as root (apt-get install chromium)"
    return None


# Under `make test-moved-date` libfaketime is preloaded into this process. The browser's clock does not come from
# the machine (every context's Date is set to the service's clock with Playwright's clock API), so the Playwright
# driver and Chromium start without the preload, which otherwise slows them several-fold.
MOVED_DATE_ENV = ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC")


@contextmanager
def _without_moved_date() -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in MOVED_DATE_ENV if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    problem = _missing_browser()
    if problem:
        if IN_CI:
            pytest.fail(f"CI=true and the browser tests cannot run: {problem}")
        pytest.skip(f"browser tests skipped: {problem}")
    from playwright.sync_api import sync_playwright

    with _without_moved_date():
        playwright = sync_playwright().start()
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """The app served by uvicorn in a thread on 127.0.0.1, on its own SQLite database."""
    url, engine = fresh_database("sqlite", tmp_path)
    app = create_app(settings_for(url), engine=engine, clock=FrozenClock(T0))
    server = start_server(app)
    yield server
    stop_server(server)
    engine.dispose()


@pytest.fixture
def live_tenant(live: Live) -> Tenant:
    return make_tenant(live.app)


def login(browser: Any, live: Live, tenant: Tenant, role: str, viewport: dict[str, int] = DESKTOP,
          **context_options: Any) -> Any:
    """A fresh browser context signed in through the login form; returns its page. ``context_options`` go to
    Playwright's new_context (e.g. ``timezone_id`` for a tablet set to another zone)."""
    context = browser.new_context(viewport=viewport, base_url=live.base, **context_options)
    # The page's Date follows the service's frozen clock, so nothing the browser stamps depends on today's date.
    context.clock.set_fixed_time(live.app.state.clock.now())
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", tenant.usernames[role])
    page.fill("input[name=password]", PASSWORD)
    submit_sign_in(page, live)
    page.wait_for_load_state()
    return page


# A sign-in answers in well under a second here. After SIGN_IN_SLOW_S the server's state is taken; the page gets
# SIGN_IN_TIMEOUT_S in all (Playwright's default is 30 s) before the test fails.
SIGN_IN_SLOW_S = 20
SIGN_IN_TIMEOUT_S = 90


def submit_sign_in(page: Any, live: Live) -> None:
    """Submit the sign-in form and wait for the page it leads to.

    If no page has come after ``SIGN_IN_SLOW_S``, the live server's state at that moment is taken: how its health
    check answers and where each of its threads is (it runs in this process). A sign-in that still completes puts
    that in the run's warnings; one that never does fails with it and the state at the end, so a stuck server
    says where it is stuck and a loaded machine says that instead.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    slow: list[str] = []
    timer = threading.Timer(SIGN_IN_SLOW_S, lambda: slow.append(f"{health_probe(live.base)}\n{thread_stacks()}"))
    timer.daemon = True
    timer.start()
    try:
        page.click("button[type=submit]", timeout=SIGN_IN_TIMEOUT_S * 1000)
    except PlaywrightTimeout as exc:
        raise AssertionError(f"signing in: no page after {SIGN_IN_TIMEOUT_S} s: {exc}\n"
                             f"the server after {SIGN_IN_SLOW_S} s: {''.join(slow)}\n"
                             f"the server now: {health_probe(live.base)}\n{thread_stacks()}") from exc
    finally:
        timer.cancel()
    if slow:
        warnings.warn(f"signing in took over {SIGN_IN_SLOW_S} s; the server then: {slow[0]}", stacklevel=2)


AGENT_MODEL = "magventure-x100"  # iTBS needs burst trains, which this family programs over serial
AGENT_SPEED = 10  # simulated device clock ×10: iTBS 600 (190 s) takes about 19 s, long enough to watch


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Callable[[Live, Tenant, int], subprocess.Popen[bytes]]]:
    """Starts the real chair agent (`tmsops agent`) on a simulated MagVenture for a chair; killed at the end."""
    procs: list[subprocess.Popen[bytes]] = []
    secret = tmp_path / "agent.secret"
    secret.write_text(PASSWORD)

    def start(live: Live, tenant: Tenant, chair_id: int) -> subprocess.Popen[bytes]:
        proc = start_logged(
            [sys.executable, "-m", "service.cli", "agent", "--chair", str(chair_id),
             "--device", f"sim://{AGENT_MODEL}", "--model", AGENT_MODEL, "--service", live.base,
             "--username", tenant.usernames["agent"], "--password-file", str(secret),
             "--outbox", str(tmp_path / "outbox.db"), "--speed", str(AGENT_SPEED)],
            tmp_path / f"agent-{len(procs)}.stderr")
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(timeout=10)


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as a test artifact under var/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
