"""refreshauth's browser client and the demo page in a real browser: headless Chromium from
the system's packages, driven by Playwright, against the example project under gunicorn
(or uvicorn), with access tokens of a few seconds and a grace period of 0."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from refreshauth.conf import DEFAULTS

from . import npm
from .server import ROOT, Server, environment, prepare, serve

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium)"),
]

ACCESS_SECONDS = 4
HAMMER_SECONDS = 18
PASSWORD = "demo-password-123"
CLIENT = "/static/refreshauth/refreshauth.js"
# What a thief's page does with a copied refresh cookie: refresh with it, CSRF and all.
REFRESH_WITH_COOKIE = """async () => {
    await fetch("/demo/auth/csrf/");
    const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
    const response = await fetch("/demo/auth/refresh/", {method: "POST",
        headers: {"X-CSRFToken": csrf, "Content-Type": "application/json"},
        body: "{}"});
    return {status: response.status, body: await response.json()};
}"""
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Tabs in the background keep their timers, as the tabs a person looks at do.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]


@dataclass
class Running:
    server: Server
    env: dict[str, str]

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def sessions(self) -> list[dict[str, Any]]:
        """Every session row of the server's database: id, revoke reason."""
        code = (
            "import json; from refreshauth.models import RefreshToken; "
            "print(json.dumps([{'id': str(s.pk), 'revoke_reason': s.revoke_reason} "
            "for s in RefreshToken.objects.all()]))"
        )
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])


def start(tmp: Path, extra: dict[str, str] | None = None) -> Iterator[Running]:
    env = environment(
        tmp,
        {
            "REFRESHAUTH_TEST_ACCESS_SECONDS": str(ACCESS_SECONDS),
            "REFRESHAUTH_DEMO_THEFT": "1",
            **(extra or {}),
        },
    )
    env.pop("REFRESHAUTH_TEST_GRACE_SECONDS", None)  # a grace period of 0
    prepare(env)
    with serve(env, workers=2, threads=4) as running:
        yield Running(running, env)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    yield from start(tmp_path_factory.mktemp("browser"))


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


# --- helpers ---------------------------------------------------------------------


def open_tab(context: Any, server: Running, state: str | None = None) -> Any:
    """A new tab of the demo page, once its client has decided whether it is logged in;
    it records the client's events in ``window.seen`` and its console errors."""
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda m: page.errors.append(m.text) if m.type == "error" else None,  # type: ignore[attr-defined]
    )
    page.on("pageerror", lambda e: page.errors.append(str(e)))  # type: ignore[attr-defined]
    page.goto(server.base_url + "/")
    page.wait_for_selector(
        f"body[data-state={state}]" if state else "body:not([data-state=loading])"
    )
    page.evaluate(
        """() => {
            window.seen = [];
            for (const type of ["login", "refresh", "logout", "reuse", "error"]) {
                window.demo.auth.on(type, (e) => window.seen.push(
                    {type: e.type, remote: e.remote, by: e.by, reason: e.reason || null}));
            }
        }"""
    )
    return page


def log_in(page: Any) -> None:
    page.wait_for_selector("body[data-state=logged-out]")
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("body[data-state=logged-in]")
    page.wait_for_function("document.getElementById('me-output').textContent.includes('demo')")


def responses(page: Any, suffix: str) -> list[int]:
    """The statuses of the responses to URLs ending in ``suffix`` that ``page`` gets from
    now on, as they come."""
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if r.url.endswith(suffix) else None)
    return statuses


def refresh_cookie(context: Any) -> dict[str, Any] | None:
    cookies = [c for c in context.cookies() if c["name"] == "refresh_token"]
    return cookies[0] if cookies else None


def seen(page: Any, type_: str) -> list[dict[str, Any]]:
    return [e for e in page.evaluate("window.seen") if e["type"] == type_]


def storage_text(page: Any) -> str:
    return str(page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)"))


# --- the tests -------------------------------------------------------------------


def test_a_first_visit_asks_nothing_and_logs_no_error(server: Running, context: Any) -> None:
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server.base_url + "/")
    page.wait_for_selector("body[data-state=logged-out]")
    page.wait_for_timeout(500)
    assert not [url for url in requests if "/demo/auth/" in url or "/api/" in url]
    assert errors == []


def test_log_in_and_call_the_api(server: Running, context: Any) -> None:
    page = open_tab(context, server, "logged-out")
    log_in(page)
    assert '"username":"demo"' in page.text_content("#me-output")
    cookie = refresh_cookie(context)
    assert cookie is not None
    assert cookie["httpOnly"] and cookie["path"] == "/demo/auth/"
    assert cookie["sameSite"] == "Strict"
    # The page cannot read the refresh token, and keeps the access token in memory only.
    assert "refresh_token" not in page.evaluate("document.cookie")
    access = page.evaluate("window.demo.auth.getAccessToken()")
    assert access and access.count(".") == 2
    stored = storage_text(page)
    assert access not in stored and cookie["value"] not in stored and "eyJ" not in stored
    assert page.errors == []


@pytest.mark.parametrize("mode", ["ahead", "on-401"])
def test_three_tabs_hammering_never_trip_reuse_detection(
    server: Running, context: Any, mode: str
) -> None:
    """Three tabs call /api/me/ in loops across several access-token lifetimes: with the
    demo's clients, which refresh ahead of expiry, or with clients that use each token
    until the server answers 401, so that the tabs' 401s race for one refresh."""
    tabs = [open_tab(context, server, "logged-out")]
    log_in(tabs[0])
    tabs += [open_tab(context, server, "logged-in") for _ in range(2)]
    refreshes = [responses(tab, "/demo/auth/refresh/") for tab in tabs]
    network = [responses(tab, "/api/me/") for tab in tabs]
    for tab in tabs:
        tab.evaluate(
            """async ([seconds, client, onlyOn401]) => {
                let auth = window.demo.auth;
                if (onlyOn401) {
                    const { createClient } = await import(client);
                    auth = createClient({ baseUrl: document.body.dataset.auth,
                                          refreshAhead: false, tab: window.demo.tab + "'" });
                    const auto = document.getElementById("auto-toggle");
                    if (auto.checked) auto.click();
                }
                const events = { made: 0, taken: 0 };
                auth.on("refresh", (e) => { events[e.remote ? "taken" : "made"] += 1; });
                const until = Date.now() + seconds * 1000;
                const statuses = {};
                let calls = 0;
                const loop = async () => {
                    while (Date.now() < until) {
                        const response = await auth.fetch("/api/me/");
                        statuses[response.status] = (statuses[response.status] || 0) + 1;
                        calls += 1;
                        await new Promise((resolve) => setTimeout(resolve, 25));
                    }
                };
                window.hammer = { done: false };
                Promise.all([loop(), loop()]).then(
                    () => { window.hammer = { done: true, statuses, calls, ...events }; },
                    (error) => { window.hammer = { done: true, error: String(error) }; });
            }""",
            [HAMMER_SECONDS, CLIENT, mode == "on-401"],
        )
    results = []
    for tab in tabs:
        tab.wait_for_function("window.hammer.done", timeout=(HAMMER_SECONDS + 30) * 1000)
        results.append(tab.evaluate("window.hammer"))
    for result in results:
        assert "error" not in result, result
        assert set(result["statuses"]) == {"200"}, result
    all_refreshes = [status for statuses in refreshes for status in statuses]
    assert set(all_refreshes) == {200}, all_refreshes
    calls = sum(result["calls"] for result in results)
    wire = Counter(status for statuses in network for status in statuses)
    made = [result["made"] for result in results]
    taken = [result["taken"] for result in results]
    print(
        f"\nthree tabs ({mode}), {HAMMER_SECONDS} s of {ACCESS_SECONDS}-second access tokens: "
        f"{calls} calls, every one answered 200 to its caller; {len(all_refreshes)} refreshes "
        f"(made by tab: {made}; new tokens taken from another tab: {taken}); "
        f"/api/me/ on the wire: {dict(wire)}"
    )
    # One refresh per lifetime for the three tabs together, not one per tab.
    assert sum(made) == len(all_refreshes)
    assert len(all_refreshes) <= HAMMER_SECONDS / (ACCESS_SECONDS - 1) + 3, all_refreshes
    assert len(all_refreshes) >= HAMMER_SECONDS // ACCESS_SECONDS - 1
    assert sum(taken) >= len(all_refreshes), "the other tabs took each new token"
    if mode == "on-401":
        assert wire[401] >= 3, "the tabs met expired tokens"
    assert not [s for s in server.sessions() if s["revoke_reason"] == "reuse"]
    for tab in tabs:
        assert tab.get_attribute("body", "data-state") == "logged-in"
        assert seen(tab, "logout") == [] and seen(tab, "reuse") == []
        assert not [e for e in tab.errors if "401" not in e], tab.errors


def test_concurrent_calls_in_one_tab_share_one_refresh(server: Running, context: Any) -> None:
    page = open_tab(context, server, "logged-out")
    log_in(page)
    page.evaluate("document.getElementById('auto-toggle').click()")  # the timer's calls off
    refreshes = responses(page, "/demo/auth/refresh/")
    page.wait_for_timeout((ACCESS_SECONDS + 1) * 1000)
    statuses = page.evaluate(
        """Promise.all([1, 2, 3, 4, 5].map(() => window.demo.auth.fetch("/api/me/")))
             .then((all) => all.map((r) => r.status))"""
    )
    assert statuses == [200] * 5
    assert refreshes == [200]


def test_logout_in_one_tab_logs_out_every_tab(server: Running, context: Any) -> None:
    tabs = [open_tab(context, server, "logged-out")]
    log_in(tabs[0])
    tabs += [open_tab(context, server, "logged-in") for _ in range(2)]
    tabs[1].click("#logout-button")
    for i, tab in enumerate(tabs):
        tab.wait_for_selector("body[data-state=logged-out]")
        (logout,) = seen(tab, "logout")
        assert logout["reason"] == "logout"
        assert logout["remote"] is (i != 1)
    assert refresh_cookie(context) is None
    # A reload does not log back in, and asks nothing of refresh/.
    refreshes = responses(tabs[0], "/demo/auth/refresh/")
    tabs[0].reload()
    tabs[0].wait_for_selector("body[data-state=logged-out]")
    assert refreshes == []


def test_a_stolen_token_replayed_elsewhere_ends_the_session_in_every_tab(
    server: Running, browser: Any
) -> None:
    victim = browser.new_context()
    thief = browser.new_context()
    try:
        tabs = [open_tab(victim, server, "logged-out")]
        log_in(tabs[0])
        tabs += [open_tab(victim, server, "logged-in") for _ in range(2)]
        session_id = tabs[0].evaluate("window.demo.auth.status().sessionId")
        # The thief copies the cookie into a browser of its own and refreshes first.
        cookie = refresh_cookie(victim)
        assert cookie is not None
        thief.add_cookies([cookie])
        page = thief.new_page()
        page.goto(server.base_url + "/")
        answer = page.evaluate(REFRESH_WITH_COOKIE)
        assert answer["status"] == 200
        # The victim's tabs refresh when their token runs out, with the old cookie.
        for tab in tabs:
            tab.wait_for_selector(
                "body[data-state=logged-out]", timeout=(ACCESS_SECONDS + 8) * 1000
            )
        for tab in tabs:
            tab.wait_for_function("window.seen.some((e) => e.type === 'reuse')")
            assert "Reuse detected" in tab.text_content("#ended-note")
        reuses = [seen(tab, "reuse") for tab in tabs]
        assert all(len(r) == 1 for r in reuses), reuses
        assert sorted(r[0]["remote"] for r in reuses) == [False, True, True]
        (row,) = [s for s in server.sessions() if s["id"] == session_id]
        assert row["revoke_reason"] == "reuse"
        # The thief's new refresh token died with the session.
        again = page.evaluate(REFRESH_WITH_COOKIE)
        assert again["status"] == 401 and again["body"]["code"] == "token_revoked"
    finally:
        victim.close()
        thief.close()


def test_the_demo_thief_sets_off_reuse_detection_in_one_click(
    server: Running, context: Any
) -> None:
    tabs = [open_tab(context, server, "logged-out")]
    log_in(tabs[0])
    tabs.append(open_tab(context, server, "logged-in"))
    tabs[1].click("#steal-button")
    for tab in tabs:
        tab.wait_for_selector("body[data-state=logged-out]")
        tab.wait_for_function("window.seen.some((e) => e.type === 'reuse')")
    tabs[1].wait_for_function(
        "document.getElementById('log').textContent.includes('died with the session')"
    )
    text = tabs[0].text_content("#log")
    assert "REUSE DETECTED" in text and "401 token_revoked" in text


@pytest.mark.skipif(npm.NPM is None, reason="needs npm for axios")
def test_the_axios_adapter_behaves_like_fetch(server: Running, context: Any) -> None:
    axios = npm.install() / "axios" / "dist" / "axios.min.js"
    page = open_tab(context, server, "logged-out")
    log_in(page)
    page.evaluate("document.getElementById('auto-toggle').click()")
    page.add_script_tag(path=str(axios))
    refreshes = responses(page, "/demo/auth/refresh/")
    wire = responses(page, "/api/me/")
    page.evaluate(
        """async (client) => {
            const { createClient } = await import(client);
            window.viaAxios = createClient({ baseUrl: document.body.dataset.auth,
                                             refreshAhead: false, tab: "axios" });
            window.api = window.axios.create();
            window.viaAxios.axios(window.api);
        }""",
        CLIENT,
    )
    first = page.evaluate("window.api.get('/api/me/').then((r) => [r.status, r.data.username])")
    assert first == [200, "demo"]
    page.wait_for_timeout((ACCESS_SECONDS + 1) * 1000)
    before = len(wire)
    statuses = page.evaluate(
        """Promise.all([window.api.get("/api/me/"), window.api.post("/api/me/", {}),
                        window.api.get("/api/me/")].map((p) => p.then(
                          (r) => r.status, (e) => e.response ? e.response.status : String(e))))"""
    )
    # POST is not allowed on /api/me/: axios rejects with 405, after the same refresh.
    assert statuses == [200, 405, 200]
    assert refreshes == [200]
    assert sorted(wire[before:]) == [200, 200, 401, 401, 401, 405]
    # Ejected, the interceptors are gone and the instance sends no token.
    plain = page.evaluate(
        """() => {
            const other = window.axios.create();
            window.viaAxios.axios(other)();
            return other.get("/api/me/").then((r) => r.status, (e) => e.response.status);
        }"""
    )
    assert plain == 401


def test_revoking_a_session_in_another_browser_logs_it_out(server: Running, browser: Any) -> None:
    mine, theirs = browser.new_context(), browser.new_context()
    try:
        victim = open_tab(theirs, server, "logged-out")
        log_in(victim)
        page = open_tab(mine, server, "logged-out")
        log_in(page)
        page.click("#sessions-button")
        page.wait_for_function("document.querySelectorAll('#sessions tr').length >= 2")
        count = page.locator("#sessions tr").count()
        page.locator("#sessions tr:not(.current) button.revoke").first.click()
        page.wait_for_function(f"document.querySelectorAll('#sessions tr').length === {count - 1}")
        victim.click("#me-button")
        victim.wait_for_selector("body[data-state=logged-out]")
        (logout,) = seen(victim, "logout")
        assert logout["reason"] == "revoked"
        assert page.get_attribute("body", "data-state") == "logged-in"
    finally:
        mine.close()
        theirs.close()


def test_both_tokens_in_cookies_across_tabs(server: Running, context: Any) -> None:
    """The demo's backend-for-frontend mode, where the project mounts one: no token in
    JavaScript, CSRF on unsafe methods, one refresh across tabs, logout everywhere."""
    if server.server.get("/bff/auth/csrf/").status != 204:
        pytest.skip("the example project has no mount with both tokens in cookies")
    earlier = {row["id"] for row in server.sessions() if row["revoke_reason"] == "reuse"}
    page = context.new_page()
    page.goto(server.base_url + "/")
    page.evaluate("localStorage.setItem('demo:bff', '1')")
    page.close()
    tabs = [open_tab(context, server, "logged-out")]
    assert tabs[0].is_checked("#bff-toggle")
    log_in(tabs[0])
    tabs += [open_tab(context, server, "logged-in") for _ in range(2)]
    access = [c for c in context.cookies() if c["name"] == "access_token"]
    assert access and access[0]["httpOnly"]
    assert tabs[0].evaluate("window.demo.auth.getAccessToken()") is None
    assert tabs[0].evaluate("window.demo.auth.status().accessCookie") is True
    refreshes = [responses(tab, "/bff/auth/refresh/") for tab in tabs]
    seconds = 3 * ACCESS_SECONDS
    statuses = []
    for tab in tabs:
        tab.evaluate(
            """(seconds) => {
                const until = Date.now() + seconds * 1000;
                const statuses = [];
                const loop = async () => {
                    while (Date.now() < until) {
                        statuses.push((await window.demo.auth.fetch("/api/me/")).status);
                        await new Promise((resolve) => setTimeout(resolve, 50));
                    }
                };
                window.hammer = { done: false };
                loop().then(() => { window.hammer = { done: true, statuses }; });
            }""",
            seconds,
        )
    for tab in tabs:
        tab.wait_for_function("window.hammer.done", timeout=(seconds + 30) * 1000)
        statuses += tab.evaluate("window.hammer.statuses")
    assert set(statuses) == {200}
    all_refreshes = [status for tab_refreshes in refreshes for status in tab_refreshes]
    assert set(all_refreshes) == {200} and len(all_refreshes) <= seconds / (ACCESS_SECONDS - 1) + 2
    # An unsafe method carries the CSRF token the client reads from its cookie.
    posted = tabs[1].evaluate(
        "window.demo.auth.logoutAll({ keepCurrent: true }).then(() => 'ok', (e) => e.message)"
    )
    assert posted == "ok"
    reused = {row["id"] for row in server.sessions() if row["revoke_reason"] == "reuse"}
    assert reused == earlier  # no session of this test was revoked for reuse
    tabs[2].click("#logout-button")
    for tab in tabs:
        tab.wait_for_selector("body[data-state=logged-out]")
    assert not [c for c in context.cookies() if c["name"] in ("access_token", "refresh_token")]


@pytest.mark.parametrize(("width", "height", "name"), [(1280, 900, "1280"), (390, 844, "phone")])
def test_the_demo_page_fits_the_screen(
    server: Running, browser: Any, tmp_path: Path, width: int, height: int, name: str
) -> None:
    """No horizontal scrolling at 1280 px or on a phone. With REFRESHAUTH_SCREENSHOTS set
    to a directory (docs/ for the README), the screenshots are saved there."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=1
    )
    try:
        tabs = [open_tab(context, server, "logged-out")]
        log_in(tabs[0])
        tabs.append(open_tab(context, server, "logged-in"))
        tabs[0].bring_to_front()
        tabs[0].wait_for_function(
            "window.seen.some((e) => e.type === 'refresh')", timeout=ACCESS_SECONDS * 3000
        )
        tabs[0].wait_for_timeout(1200)
        assert tabs[0].evaluate("document.documentElement.scrollWidth") <= width
        directory = Path(os.environ.get("REFRESHAUTH_SCREENSHOTS") or tmp_path)
        tabs[0].screenshot(path=str(directory / f"demo-{name}.png"), full_page=True)
    finally:
        context.close()


SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def test_the_session_admin_is_readable_at_1280(
    server: Running, browser: Any, tmp_path: Path
) -> None:
    """The sessions' change list at 1280 px: no horizontal scrolling, the device read from
    the user agent rather than the raw string, a short id, no delete action."""
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from django.contrib.auth import get_user_model; U = get_user_model(); "
         "U.objects.filter(username='staff').exists() or "
         "U.objects.create_superuser('staff', 'staff@example.com', 'staff-password-123')"],
        cwd=ROOT, env=server.env, check=True, capture_output=True,
    )  # fmt: skip
    for named in ({}, {"device_name": "Work phone"}):
        answer = server.server.post(
            "/api/auth/login/",
            {"username": "demo", "password": PASSWORD, **named},
            headers={"User-Agent": SAFARI_ON_IPHONE},
        )
        assert answer.status == 200
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    try:
        page = context.new_page()
        page.goto(server.base_url + "/admin/login/?next=/admin/refreshauth/refreshtoken/")
        page.fill("#id_username", "staff")
        page.fill("#id_password", "staff-password-123")
        page.click("input[type=submit]")
        page.wait_for_selector("#result_list")
        page.screenshot(
            path=str(
                Path(os.environ.get("REFRESHAUTH_SCREENSHOTS") or tmp_path) / "admin-1280.png"
            ),
            full_page=True,
        )
        text = page.text_content("#result_list") or ""
        assert "Mobile Safari 17 on iOS" in text and "Work phone" in text
        assert "AppleWebKit" not in text  # the raw user agent is not the list's to show
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        # Every column in view: the list's own box does not scroll either.
        assert page.evaluate(
            "(() => { const r = document.querySelector('#changelist .results');"
            " return r.scrollWidth <= r.clientWidth; })()"
        )
        actions = page.eval_on_selector_all(
            "select[name=action] option", "(options) => options.map((o) => o.value)"
        )
        assert "revoke_selected" in actions and "delete_selected" not in actions
    finally:
        context.close()


# --- DPoP, once the server has it -------------------------------------------------

needs_dpop = pytest.mark.skipif("DPOP" not in DEFAULTS, reason="the server has no DPOP setting")


@pytest.fixture(scope="module")
def dpop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    yield from start(tmp_path_factory.mktemp("dpop"), {"REFRESHAUTH_DPOP": "allowed"})


@needs_dpop
def test_dpop_in_the_browser(dpop_server: Running, context: Any) -> None:
    from datetime import timedelta

    from refreshauth.dpop import verify_proof

    page = context.new_page()
    page.goto(dpop_server.base_url + "/")
    page.evaluate("localStorage.setItem('demo:dpop', '1')")
    page.close()
    page = open_tab(context, dpop_server, "logged-out")
    assert page.is_checked("#dpop-toggle")
    proofs: list[tuple[str, str, str | None, str]] = []

    def keep(request: Any) -> None:
        proof = request.headers.get("dpop")
        if proof:
            proofs.append(
                (request.method, request.url, request.headers.get("authorization"), proof)
            )

    page.on("request", keep)
    log_in(page)
    # The badge follows the client's status; it may lag the login by one tick.
    page.wait_for_function("document.getElementById('token-type').textContent === 'DPoP'")
    page.click("#sessions-button")
    page.wait_for_selector("#sessions .badge.dpop")
    # The key cannot be read by script, and it outlives a reload.
    key = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open("refreshauth");
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
                const get = open.result.transaction("dpop-keys").objectStore("dpop-keys")
                    .get(window.demo.auth.baseUrl);
                get.onsuccess = () => resolve({extractable: get.result.privateKey.extractable,
                                               type: get.result.privateKey.algorithm.namedCurve});
            };
        })"""
    )
    assert key == {"extractable": False, "type": "P-256"}
    thumbprint = page.evaluate("window.demo.auth.dpopThumbprint()")
    page.reload()
    page.wait_for_selector("body[data-state=logged-in]")
    assert page.evaluate("window.demo.auth.dpopThumbprint()") == thumbprint
    page.wait_for_timeout((ACCESS_SECONDS + 1) * 1000)
    page.click("#me-button")
    page.wait_for_function("document.getElementById('me-output').textContent.includes('demo')")
    assert {method for method, *_ in proofs} >= {"POST", "GET"}
    for method, url, authorization, proof in proofs:
        token = authorization.split(" ", 1)[1] if authorization else None
        if authorization:
            assert authorization.startswith("DPoP ")
        verified = verify_proof(
            proof,
            method=method,
            url=url.split("?")[0],
            algorithms=["ES256"],
            max_age=timedelta(seconds=120),
            leeway=timedelta(0),
            access_token=token,
        )
        assert verified.jkt == thumbprint
    # A thief with the refresh cookie but not the key gets nothing.
    page.click("#steal-button")
    page.wait_for_function(
        "document.getElementById('log').textContent.includes('useless without')"
    )
    assert page.get_attribute("body", "data-state") == "logged-in"
