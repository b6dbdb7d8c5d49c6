"""Both tokens in cookies against the example project under gunicorn (or uvicorn), over
HTTP: its backend-for-frontend mount at /bff/auth/, and its own /api/me/, with nothing but
the cookies a browser would keep."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import Morsel, SimpleCookie
from typing import Any

import pytest

from .server import Server, environment, prepare, serve

pytestmark = pytest.mark.server

BFF = "/bff/auth/"
ME = "/api/me/"
DEMO = {"username": "demo", "password": "demo-password-123"}


@dataclass
class Reply:
    status: int
    headers: Any
    body: bytes
    cookies: dict[str, Morsel[str]]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Browser:
    """A browser's cookie jar in front of ``server``: it keeps what Set-Cookie says
    (dropping a cookie at Max-Age 0), sends each cookie under its Path only, and sends
    ``X-CSRFToken`` only when told to, as the page's script would."""

    server: Server
    jar: dict[str, Morsel[str]] = field(default_factory=dict)

    def request(
        self, method: str, path: str, data: Any = None, *, csrf: bool = False, **headers: str
    ) -> Reply:
        body = None if data is None else json.dumps(data).encode()
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
        sent = [f"{m.key}={m.value}" for m in self.jar.values() if path.startswith(m["path"])]
        if sent:
            headers["Cookie"] = "; ".join(sent)
        if csrf:
            headers["X-CSRFToken"] = self.jar["csrftoken"].value
        request = urllib.request.Request(
            self.server.base_url + path, data=body, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, answer_headers, content = (
                    response.status,
                    response.headers,
                    response.read(),
                )
        except urllib.error.HTTPError as error:
            status, answer_headers, content = error.code, error.headers, error.read()
        cookies: dict[str, Morsel[str]] = {}
        for line in answer_headers.get_all("Set-Cookie") or []:
            parsed: SimpleCookie = SimpleCookie()
            parsed.load(line)
            cookies.update(parsed)
        for name, morsel in cookies.items():
            if morsel["max-age"] == "0":
                self.jar.pop(name, None)
            else:
                self.jar[name] = morsel
        return Reply(status, answer_headers, content, cookies)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: Any = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, data, **kwargs)

    def log_in(self) -> Reply:
        assert self.get(f"{BFF}csrf/").status == 204
        reply = self.post(f"{BFF}login/", DEMO, csrf=True)
        assert reply.status == 200, reply.body
        return reply


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("bff")
    env = environment(tmp)
    prepare(env)
    with serve(env, workers=2, threads=2) as running:
        yield running


def test_login_sets_both_cookies_and_the_api_takes_the_cookie(server: Server) -> None:
    browser = Browser(server)
    reply = browser.log_in()
    assert reply.json() == {
        "token_type": "Bearer",
        "expires_in": 900,
        "refresh_expires_in": 604800,
    }
    assert reply.headers["Cache-Control"] == "no-store"
    access, refresh = reply.cookies["access_token"], reply.cookies["refresh_token"]
    assert access["httponly"] and access["secure"] and access["samesite"] == "Strict"
    assert (access["path"], access["max-age"]) == ("/", "900")
    assert (refresh["path"], refresh["max-age"]) == (BFF, "604800")
    me = browser.get(ME)
    assert (me.status, me.json()["username"]) == (200, "demo")
    listed = browser.get(f"{BFF}sessions/")
    assert listed.status == 200 and [s["current"] for s in listed.json()][:1] == [True]


def test_unsafe_requests_need_the_csrf_token(server: Server) -> None:
    browser = Browser(server)
    browser.log_in()
    other = Browser(server)
    other.log_in()
    other_id = next(s["id"] for s in other.get(f"{BFF}sessions/").json() if s["current"])

    refused = browser.post(f"{BFF}logout-all/")
    assert (refused.status, refused.json()["code"]) == (403, "csrf_failed")
    deleted = browser.request("DELETE", f"{BFF}sessions/{other_id}/")
    assert (deleted.status, deleted.json()["code"]) == (403, "csrf_failed")
    assert other.get(ME).status == 200  # nothing changed

    accepted = browser.request("DELETE", f"{BFF}sessions/{other_id}/", csrf=True)
    assert accepted.status == 204
    assert other.get(ME).json()["code"] == "token_revoked"
    assert browser.get(ME).status == 200


def test_a_cross_site_post_is_refused(server: Server) -> None:
    browser = Browser(server)
    browser.log_in()
    reply = browser.post(
        f"{BFF}logout-all/",
        csrf=True,
        Origin="http://evil.example",
        Referer="http://evil.example/",
    )
    assert (reply.status, reply.json()["code"]) == (403, "csrf_failed")
    assert browser.get(ME).status == 200


def test_the_header_wins_over_the_cookie(server: Server) -> None:
    browser = Browser(server)
    browser.log_in()
    reply = browser.get(ME, Authorization=f"Bearer {uuid.uuid4()}")
    assert (reply.status, reply.json()["code"]) == (401, "token_invalid")


def test_refresh_renews_the_cookie_and_logout_deletes_both(server: Server) -> None:
    browser = Browser(server)
    first = browser.log_in().cookies["access_token"].value
    refused = browser.post(f"{BFF}refresh/")
    assert (refused.status, refused.json()["code"]) == (403, "csrf_failed")

    renewed = browser.post(f"{BFF}refresh/", csrf=True)
    assert renewed.status == 200, renewed.body
    assert set(renewed.json()) == {"token_type", "expires_in", "refresh_expires_in"}
    assert renewed.cookies["access_token"].value != first
    assert browser.get(ME).status == 200

    current = browser.jar["access_token"].value
    out = browser.post(f"{BFF}logout/", csrf=True)
    assert out.status == 204
    assert out.cookies["access_token"]["max-age"] == "0"
    assert out.cookies["refresh_token"]["max-age"] == "0"
    assert "access_token" not in browser.jar and "refresh_token" not in browser.jar
    assert browser.get(ME).json()["code"] == "not_authenticated"
    # The access token of the cookie died with the session, on every worker.
    for _ in range(4):
        stale = server.get(ME, headers={"Cookie": f"access_token={current}"})
        assert (stale.status, stale.json()["code"]) == (401, "token_revoked")
