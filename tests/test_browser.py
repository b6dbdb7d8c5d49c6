"""The demo page in a real browser: headless Chromium from the system's packages, driven
by Playwright, against the example project under gunicorn."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from .server import Server, environment, gunicorn, prepare

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium)"),
]

ACCESS_SECONDS = 3
PASSWORD = "demo-password-123"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("browser")
    env = environment(
        tmp,
        {
            "REFRESHAUTH_TEST_ACCESS_SECONDS": str(ACCESS_SECONDS),
            "REFRESHAUTH_TEST_GRACE_SECONDS": "2",
        },
    )
    prepare(env)
    with gunicorn(env, workers=2, threads=4) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; these tests use no ORM.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            yield launched
            launched.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context()
    yield ctx
    ctx.close()


def log_in(page: Any, server: Server) -> None:
    page.goto(server.base_url + "/")
    page.wait_for_selector("body[data-state=logged-out]")
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("body[data-state=logged-in]")
    page.wait_for_function("document.getElementById('who').textContent === 'demo'")


def refresh_statuses(page: Any, suffix: str = "/demo/auth/refresh/") -> list[int]:
    """The statuses of the refreshes ``page`` makes from now on, as they come."""
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if r.url.endswith(suffix) else None)
    return statuses


def refresh_cookie(context: Any) -> dict[str, Any] | None:
    cookies = [c for c in context.cookies() if c["name"] == "refresh_token"]
    return cookies[0] if cookies else None


def test_log_in_and_call_the_api(server: Server, context: Any) -> None:
    page = context.new_page()
    log_in(page, server)
    assert '"username":"demo"' in page.text_content("#me-output")
    cookie = refresh_cookie(context)
    assert cookie is not None
    assert cookie["httpOnly"] and cookie["path"] == "/demo/auth/"
    assert cookie["sameSite"] == "Strict"
    # The page cannot read the refresh token, and keeps the access token nowhere else.
    assert "refresh_token" not in page.evaluate("document.cookie")
    assert page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)") == "{}{}"


def test_silent_refresh_after_the_access_token_expires(server: Server, context: Any) -> None:
    page = context.new_page()
    log_in(page, server)
    refreshes = refresh_statuses(page)
    page.wait_for_timeout((ACCESS_SECONDS + 1) * 1000)
    page.evaluate("document.getElementById('me-output').textContent = ''")
    page.click("#me-button")
    page.wait_for_function("document.getElementById('me-output').textContent.includes('demo')")
    assert refreshes == [200]
    assert page.get_attribute("body", "data-state") == "logged-in"


def test_concurrent_401s_share_one_refresh(server: Server, context: Any) -> None:
    page = context.new_page()
    log_in(page, server)
    refreshes = refresh_statuses(page)
    page.wait_for_timeout((ACCESS_SECONDS + 1) * 1000)
    names = page.evaluate(
        """Promise.all([
            window.refreshauthDemo.me(),
            window.refreshauthDemo.loadSessions(),
            window.refreshauthDemo.me(),
        ]).then(([a, sessions, b]) => [a.username, sessions.length > 0, b.username])"""
    )
    assert names == ["demo", True, "demo"]
    assert refreshes == [200]


def test_two_tabs_refreshing_at_once_both_stay_logged_in(server: Server, context: Any) -> None:
    first = context.new_page()
    log_in(first, server)
    second = context.new_page()
    second.goto(server.base_url + "/")
    second.wait_for_selector("body[data-state=logged-in]")
    tabs = [refresh_statuses(page) for page in (first, second)]
    first.wait_for_timeout((ACCESS_SECONDS + 1) * 1000)
    start = first.evaluate("Date.now()") + 700
    for page in (first, second):
        page.evaluate(
            """at => setTimeout(() => window.refreshauthDemo.me().then(
                   () => { window.outcome = 'ok'; }, () => { window.outcome = 'failed'; }),
               at - Date.now())""",
            start,
        )
    for page in (first, second):
        page.wait_for_function("window.outcome !== undefined", timeout=15000)
        assert page.evaluate("window.outcome") == "ok"
        assert page.get_attribute("body", "data-state") == "logged-in"
    statuses = tabs[0] + tabs[1]
    assert len(statuses) == 2 and set(statuses) == {200}
    # Both go on working afterwards: nothing was taken for reuse.
    for page in (first, second):
        assert page.evaluate("window.refreshauthDemo.me().then(b => b.username)") == "demo"


def test_revoking_a_session_in_one_tab_logs_the_other_out(server: Server, browser: Any) -> None:
    mine, theirs = browser.new_context(), browser.new_context()
    try:
        victim = theirs.new_page()
        log_in(victim, server)
        page = mine.new_page()
        log_in(page, server)
        page.click("#sessions-button")
        other = page.locator("#sessions tr:not(.current) button.revoke")
        page.wait_for_function("document.querySelectorAll('#sessions tr').length >= 2")
        count = page.locator("#sessions tr").count()
        other.first.click()
        page.wait_for_function(f"document.querySelectorAll('#sessions tr').length === {count - 1}")
        victim.click("#me-button")
        victim.wait_for_selector("body[data-state=logged-out]")
        assert "session has ended" in victim.text_content("#login-error")
        assert page.get_attribute("body", "data-state") == "logged-in"
    finally:
        mine.close()
        theirs.close()


def test_logout_clears_the_cookie(server: Server, context: Any) -> None:
    page = context.new_page()
    log_in(page, server)
    assert refresh_cookie(context) is not None
    page.click("#logout-button")
    page.wait_for_selector("body[data-state=logged-out]")
    assert refresh_cookie(context) is None
    # And a reload does not log back in.
    page.reload()
    page.wait_for_selector("body[data-state=logged-out]")
