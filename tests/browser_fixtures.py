"""What the browser tests share: a real `streamlit run app.py` server (module-scoped: every test file starts its
own, cold), Playwright driving Debian's chromium, and the helpers that read a page. A test file imports the fixtures
it uses by name (`from tests.browser_fixtures import base_url, browser, page, server  # noqa: F401`) and sets
`pytestmark = NEEDS_BROWSER`. Screenshots for humans land in tests/artifacts/ (git-ignored).
"""
from __future__ import annotations

import contextlib
import importlib.util
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from harness import browser as browser_support
from harness.browser import CHROMIUM, CHROMIUM_ARGS, ROOT, slider

ARTIFACTS = ROOT / "tests/artifacts"
TIMEOUT_MS = 60_000

NEEDS_BROWSER = pytest.mark.skipif(not Path(CHROMIUM).exists() or importlib.util.find_spec("playwright") is None,
                                reason="needs /usr/bin/chromium and the playwright package")

if importlib.util.find_spec("playwright") is not None:
    from playwright.sync_api import expect, sync_playwright  # noqa: F401  (expect: the test files' import)


# -- the server ---------------------------------------------------------------------------------------------

@contextlib.contextmanager
def streamlit_server():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with browser_support.streamlit_server(log=ARTIFACTS / f"server-{time.time_ns()}.log") as url:
        yield url


class Server:
    def __init__(self, url: str):
        self.url, self.touched = url, False


@pytest.fixture(scope="module")
def server():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as url:
        yield Server(url)


@pytest.fixture
def base_url(server) -> str:
    server.touched = True
    return server.url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    yield pg
    context.close()


# -- helpers ------------------------------------------------------------------------------------------------

def wait_idle(page, quiet_ms: int = 1500) -> None:
    browser_support.wait_idle(page, quiet_ms, timeout_ms=TIMEOUT_MS)


def assert_no_exception(page) -> None:
    exc = page.locator('[data-testid="stException"]')
    assert exc.count() == 0, "app shows an exception:\n" + "\n---\n".join(exc.all_inner_texts())


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def layer_slider(page):
    return page.locator(slider("Layer"))


def frame_of(page, title_part: str):
    handle = page.locator(f'iframe[title*="{title_part}"]').first.element_handle(timeout=TIMEOUT_MS)
    return handle.content_frame()


SVG_DRAWN = "n => document.querySelectorAll('svg *').length > n"


def block_outside(page) -> list[str]:
    """Abort every request that would leave the machine; returns the list they are recorded in."""
    outside: list[str] = []

    def handler(route):
        u = urlparse(route.request.url)
        if u.scheme in ("data", "blob", "about") or u.hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", handler)
    return outside

# the sidebar's links, not a chapter's own ("Next: …")
NAV_LINKS = '[data-testid="stSidebarNav"] a, [data-testid="stSidebar"] [data-testid="stPageLink"] a'
