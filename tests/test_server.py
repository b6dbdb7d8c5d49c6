"""The example project under gunicorn (two instances, several workers and threads each),
or under uvicorn with REFRESHAUTH_TEST_SERVER=uvicorn, driven over HTTP: on SQLite, and on
the database and Redis that DATABASE_URL and REDIS_URL name when set. Process-local state
would fail these tests."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from .conftest import RACE_ROUNDS
from .server import ROOT, Answer, Server, environment, prepare, serve

pytestmark = pytest.mark.server

DEMO = {"username": "demo", "password": "demo-password-123"}
ROUNDS = RACE_ROUNDS
THREADS = 32


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    tmp = tmp_path_factory.mktemp("server")
    env = environment(tmp)
    prepare(env)
    with serve(env) as first, serve(env) as second:
        yield first, second


@pytest.fixture(scope="module")
def grace_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("grace")
    env = environment(tmp, {"REFRESHAUTH_TEST_GRACE_SECONDS": "30"})
    prepare(env)
    with serve(env) as server:
        yield server


@pytest.fixture
def server(servers: tuple[Server, Server]) -> Server:
    return servers[0]


def login(server: Server) -> dict[str, Any]:
    answer = server.post("/api/auth/login/", DEMO)
    assert answer.status == 200, answer.body
    return dict(answer.json())


def test_login_me_refresh_reuse(server: Server) -> None:
    tokens = login(server)
    me = server.get("/api/me/", token=tokens["access_token"])
    assert me.status == 200
    assert me.json()["username"] == "demo"
    assert tokens["expires_in"] == 900 and tokens["refresh_expires_in"] == 604800
    new = server.post("/api/auth/refresh/", {"refresh_token": tokens["refresh_token"]})
    assert new.status == 200
    assert new.headers["Cache-Control"] == "no-store"
    reused = server.post("/api/auth/refresh/", {"refresh_token": tokens["refresh_token"]})
    assert (reused.status, reused.json()["code"]) == (401, "token_reused")
    after = server.post("/api/auth/refresh/", {"refresh_token": new.json()["refresh_token"]})
    assert (after.status, after.json()["code"]) == (401, "token_revoked")


def test_revocation_reaches_every_worker_of_both_servers(servers: tuple[Server, Server]) -> None:
    first, second = servers
    tokens = login(first)
    for server in (first, second):
        for _ in range(6):
            assert server.get("/api/me/", token=tokens["access_token"]).status == 200
    assert (
        second.post("/api/auth/logout/", {"refresh_token": tokens["refresh_token"]}).status == 204
    )
    for server in (first, second):
        for _ in range(12):
            answer = server.get("/api/me/", token=tokens["access_token"])
            assert (answer.status, answer.json()["code"]) == (401, "token_revoked")


def username_with_time_left_in_its_window(seconds: int = 20) -> str:
    """A fresh username whose LOGIN_RATE window (one minute, at an offset per key, as
    django-ratelimit counts) does not roll over during the test and reset the count."""
    from django_ratelimit.core import _get_window

    from refreshauth.ratelimit import _network, _username_key

    while True:
        username = f"nobody-{uuid.uuid4()}"
        value = f"{_network('127.0.0.1')}:{_username_key(username)}"
        if _get_window(value, 60) - time.time() > seconds:
            return username


def test_rate_limit_is_shared_between_servers(servers: tuple[Server, Server]) -> None:
    wrong = {"username": username_with_time_left_in_its_window(), "password": "wrong"}
    statuses = [servers[i % 2].post("/api/auth/login/", wrong).status for i in range(5)]
    assert statuses == [401] * 5
    for server in servers:
        answer = server.post("/api/auth/login/", wrong)
        assert answer.status == 429
        assert int(answer.headers["Retry-After"]) >= 1
        assert answer.json()["code"] == "rate_limited"


def test_concurrent_failed_logins_get_no_more_than_the_limit(
    servers: tuple[Server, Server],
) -> None:
    """Parallel guesses each take a count before the password is checked: 20 at once get
    LOGIN_RATE's 5 tries, not 20."""
    wrong = {"username": username_with_time_left_in_its_window(), "password": "wrong"}
    barrier = threading.Barrier(20)

    def guess(i: int) -> int:
        barrier.wait()
        return servers[i % 2].post("/api/auth/login/", wrong).status

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = Counter(pool.map(guess, range(20)))
    assert statuses == Counter({401: 5, 429: 15}), statuses


def race(servers: tuple[Server, ...], body: dict[str, Any], n: int = THREADS) -> list[Answer]:
    barrier = threading.Barrier(n)

    def one(i: int) -> Answer:
        barrier.wait()
        return servers[i % len(servers)].post("/api/auth/refresh/", body)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def test_concurrent_refreshes_of_one_token(servers: tuple[Server, Server]) -> None:
    winners_per_round = []
    for _ in range(ROUNDS):
        tokens = login(servers[0])
        answers = race(servers, {"refresh_token": tokens["refresh_token"]})
        statuses = Counter(a.status for a in answers)
        # 429: REFRESH_RATE (30/m per session) counts every one of the 32 attempts.
        assert set(statuses) <= {200, 401, 429, 503}, statuses
        for answer in answers:
            if answer.status == 401:
                assert answer.json()["code"] in ("token_reused", "token_revoked")
        winners_per_round.append(statuses[200])
    assert max(winners_per_round) <= 1, winners_per_round
    print(f"\nrounds={ROUNDS} threads={THREADS} winners per round={winners_per_round}")


def test_concurrent_refreshes_in_the_grace_period_share_one_successor(
    grace_server: Server,
) -> None:
    for _ in range(max(3, ROUNDS // 4)):
        tokens = login(grace_server)
        answers = race((grace_server,), {"refresh_token": tokens["refresh_token"]})
        ok = [a for a in answers if a.status == 200]
        assert {a.status for a in answers} <= {200, 429, 503}
        assert len(ok) >= 1
        assert len({a.json()["refresh_token"] for a in ok}) == 1


def test_refresh_racing_logout_leaves_the_session_revoked(servers: tuple[Server, Server]) -> None:
    for _ in range(ROUNDS):
        tokens = login(servers[0])
        body = {"refresh_token": tokens["refresh_token"]}
        barrier = threading.Barrier(2)

        def call(
            server: Server,
            path: str,
            body: dict[str, str] = body,
            barrier: threading.Barrier = barrier,
        ) -> Answer:
            barrier.wait()
            return server.post(path, body)

        with ThreadPoolExecutor(max_workers=2) as pool:
            refreshed = pool.submit(call, servers[0], "/api/auth/refresh/")
            logged_out = pool.submit(call, servers[1], "/api/auth/logout/")
            assert logged_out.result().status == 204
            result = refreshed.result()
        candidates = [tokens["refresh_token"]]
        if result.status == 200:
            candidates.append(result.json()["refresh_token"])
        for token in candidates:
            answer = servers[0].post("/api/auth/refresh/", {"refresh_token": token})
            assert answer.status == 401


def test_bad_input_never_500(server: Server) -> None:
    cases = [
        ("/api/auth/login/", b"[" * 50_000 + b"]" * 50_000, "application/json"),
        ("/api/auth/login/", b"\xff\xfe", "application/json"),
        ("/api/auth/login/", b'{"username": 5, "password": []}', "application/json"),
        ("/api/auth/refresh/", b"grant_type=password", "application/x-www-form-urlencoded"),
        (
            "/api/auth/refresh/",
            b'{"refresh_token": "' + b"a" * 1_000_000 + b'"}',
            "application/json",
        ),
        ("/api/auth/logout/", b"nope", "text/plain"),
    ]
    for path, raw, content_type in cases:
        answer = server.post(path, raw=raw, headers={"Content-Type": content_type})
        assert 400 <= answer.status < 500, (path, answer.status, answer.body[:200])
    answer = server.get("/api/me/", headers={"Authorization": "Bearer " + "x" * 9000})
    assert answer.status in (400, 401, 431)


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_printed_curl_lines_work(server: Server) -> None:
    script = (ROOT / "example_project" / "curl-demo.sh").read_text()
    port = server.base_url.rsplit(":", 1)[1]
    script = script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r'\{"id":\d+,"username":"demo"\}', out)
    assert "\n204\n" in out
    assert '"code":"token_revoked"' in out
