"""Browser tests: a live server on a seeded SQLite database, driven by Playwright through
Debian's Chromium (no browser download). Without /usr/bin/chromium they skip, unless
VAULTA_REQUIRE_BROWSER=1 (set by .ci/run) makes that a failure."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from werkzeug.serving import make_server

from tests.browser.console import BrowserConsole
from tests.databases import SqliteTemplate
from vaulta import create_app
from vaulta.extensions import db
from vaulta.ops.seeding.demo import seed_demo

CHROMIUM = os.environ.get("VAULTA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not os.path.exists(CHROMIUM):
        message = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("VAULTA_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " but VAULTA_REQUIRE_BROWSER=1")
        pytest.skip(message)
    return CHROMIUM


def closing_every_response(app: WSGIApplication) -> WSGIApplication:
    """Werkzeug's development server skips the response's close() when the browser resets
    the connection while the server drains the request (serving.py, execute()'s finally),
    so a static file (favicon.svg on a 304) stays open until garbage collection and its
    ResourceWarning fails whichever test is running. A generator's finally runs on
    exhaustion, on error and on garbage collection alike, so the file is always closed."""

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = app(environ, start_response)
        try:
            yield from body
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return wsgi


@pytest.fixture(scope="session")
def live_server(
    sqlite_template: SqliteTemplate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    live = tmp_path_factory.mktemp("live")
    url = sqlite_template.copy_to(live)
    # Exports above 100 rows go to the background (tests/browser/test_exports.py).
    settings = {"EXPORT_INLINE_MAX_ROWS": 100, "EXPORT_DIR": str(live / "exports")}
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, **settings})
    with app.app_context():
        seed_demo()
        db.session.remove()
    server = make_server("127.0.0.1", 0, closing_every_response(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def console() -> BrowserConsole:
    return BrowserConsole()


@pytest.fixture
def open_page(browser: Browser, console: BrowserConsole) -> Iterator[Callable[[], Page]]:
    """Opens pages, each in its own browser context (its own cookies). The test fails if any
    of them left an error in the console that the test did not ``console.expect()``."""
    contexts: list[BrowserContext] = []

    def open_one() -> Page:
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: console.errors.append(f"JavaScript: {exc}"))
        page.on("console", console.record)
        return page

    yield open_one
    for context in contexts:
        context.close()
    assert console.unexpected() == [], f"errors in the browser console: {console.errors}"


@pytest.fixture
def page(open_page: Callable[[], Page]) -> Page:
    return open_page()
