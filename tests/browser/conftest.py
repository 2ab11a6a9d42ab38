"""Browser fixtures: the app served by a real server in a thread, driven by Debian Chromium.

Chromium is /usr/bin/chromium (apt-get install chromium). Without it the browser tests are
skipped with a reason, except in CI (CI=true) where a missing browser is a failure.
"""
from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
WIDE = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="session")
def live_server(app):
    """The session's app (one per database engine) on 127.0.0.1 at a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def is_csp_violation(text: str) -> bool:
    """Chromium reports each Content-Security-Policy refusal on the console."""
    return "Content Security Policy" in text


@pytest.fixture
def new_page(browser, live_server, request):
    """Factory: new_page(viewport=..., java_script_enabled=...) -> a page in a fresh context.

    Every page's console is watched: a Content-Security-Policy violation on any page of any
    browser test fails it (page.csp_violations lists them; a test that provokes one on
    purpose empties the list)."""
    contexts, pages = [], []

    def make(viewport=None, java_script_enabled=True):
        context = browser.new_context(base_url=live_server, viewport=viewport or WIDE,
                                      java_script_enabled=java_script_enabled)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.csp_violations = []
        page.on("console", lambda message, page=page: page.csp_violations.append(message.text)
                if is_csp_violation(message.text) else None)
        pages.append(page)
        return page

    yield make
    violations = [text for page in pages for text in page.csp_violations]
    for context in contexts:
        context.close()
    assert violations == [], f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def screenshot_dir():
    """Where to save screenshots for a person to look at (REGISTRY_SCREENSHOTS), or None."""
    return os.environ.get("REGISTRY_SCREENSHOTS")
