"""Real Chromium (Debian's package) against the app served by a real HTTP server in a thread."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Assertions wait as long as a page's actions (the ``page`` fixture), not expect's 5 s: CI saw a
# first ``next`` answered after 4 s, and a label key's answer not sent within 5 s, while the 2
# cores were saturated.
expect.set_options(timeout=30_000)
SCREENSHOTS = Path(
    os.environ.get("LABELAPP_SCREENSHOTS", Path(__file__).parents[2] / "build" / "screenshots")
)


class LiveServer:
    """The app on a real HTTP server in a thread; can be stopped and started again (same port)."""

    def __init__(self, app) -> None:
        self.app = app
        self.port = 0
        self.server = None
        self.thread = None

    def start(self) -> str:
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(5)
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def server_control(app) -> Iterator[LiveServer]:
    live = LiveServer(app)
    live.start()
    yield live
    live.stop()


@pytest.fixture
def live_server(server_control: LiveServer) -> str:
    return server_control.url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium not installed (apt-get install chromium); CI always runs this")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    # Generous: on a slow or busy machine (CI's 2 cores ran Python at half speed some days) a
    # job-backed control can take more than 10 s to appear; a passing step waits no longer.
    page.set_default_timeout(30_000)
    yield page
    context.close()


def shot(page, name: str) -> Path:
    """Save a screenshot under build/screenshots (look at them: they are how the page looks)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")


def wait_until(page, expression: str, timeout_s: float = 30.0) -> None:
    """Wait until the JavaScript ``expression`` is truthy in ``page``. Playwright's own
    ``wait_for_function`` polls with ``eval`` inside the page, which our CSP forbids (no
    'unsafe-eval'); ``page.evaluate`` runs through the debugger protocol, which CSP does not
    govern, so this polls from Python instead."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if page.evaluate(f"() => Boolean({expression})"):
                return
        except Exception:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s:g} s: {expression}")
        time.sleep(0.1)


def labeled_comments_project(sessions, tmp_path) -> tuple[int, list[str], list[str]]:
    """A "comments" project of 60 distinct demo YouTube comments, the first 30 labeled by an
    annotator with their true class: (project id, texts, true labels)."""
    from tests.app.factories import labeled_project
    from tests.app.youtube import demo_comments

    texts, truth = demo_comments(60)
    project_id, _, _ = labeled_project(sessions, tmp_path, "comments", texts, truth[:30])
    return project_id, texts, truth
