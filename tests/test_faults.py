"""Faults: the example project under gunicorn on PostgreSQL and Redis, while PostgreSQL
and then Redis are stopped and started again under it. Clients see 503 with Retry-After
while a service is down, never a 500; afterwards every session is either live with
exactly one current token (the client's last one) or revoked; and a revoked session's
access token stays refused whatever happened to the cache.

These tests stop and start services, so they run only where the commands that do it
are named (``.ci/run`` sets them): ``REFRESHAUTH_FAULTS_POSTGRES_STOP``,
``REFRESHAUTH_FAULTS_POSTGRES_START``, ``REFRESHAUTH_FAULTS_REDIS_STOP`` and
``REFRESHAUTH_FAULTS_REDIS_START``, with ``DATABASE_URL`` on that PostgreSQL and
``REDIS_URL`` on that Redis (started without persistence).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest

from refreshauth.tokens import digest

from .conftest import ON_POSTGRES
from .server import Answer, Server, environment, gunicorn, prepare

COMMANDS = ("POSTGRES_STOP", "POSTGRES_START", "REDIS_STOP", "REDIS_START")
CONFIGURED = (
    all(os.environ.get(f"REFRESHAUTH_FAULTS_{name}") for name in COMMANDS)
    and ON_POSTGRES
    and bool(os.environ.get("REDIS_URL"))
)

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(
        not CONFIGURED,
        reason="needs REFRESHAUTH_FAULTS_{POSTGRES,REDIS}_{STOP,START}, PostgreSQL and Redis",
    ),
]

DEMO = {"username": "demo", "password": "demo-password-123"}
CLIENTS = 16
DOWN_SECONDS = 3
SETTLE_SECONDS = 3
# What a client may be told besides 200 and 503: its session was ended (a refresh whose
# answer was lost in the outage makes its token an old one, and reuse ends the session).
ENDED = {"token_revoked", "token_reused"}


def run(name: str) -> None:
    subprocess.run(os.environ[f"REFRESHAUTH_FAULTS_{name}"], shell=True, check=True, timeout=120)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # Clients refresh many times a second: REFRESH_RATE would answer 429 long before the
    # outage. The rate-limit cache is still asked on every refresh.
    env = environment(
        tmp_path_factory.mktemp("faults"), {"REFRESHAUTH_TEST_REFRESH_RATE": "100000/m"}
    )
    prepare(env)
    return env


@pytest.fixture(scope="module")
def server(env: dict[str, str]) -> Iterator[Server]:
    with gunicorn(env, workers=3, threads=4) as running:
        yield running


def code_of(answer: Answer) -> str | None:
    try:
        return str(answer.json().get("code"))
    except (ValueError, AttributeError):
        return None


@dataclass
class Seen:
    at: float
    what: str
    status: int
    retry_after: str | None
    code: str | None


@dataclass
class Client:
    refresh_token: str
    access_token: str
    ended: str | None = None
    seen: list[Seen] = field(default_factory=list)

    @property
    def session_id(self) -> str:
        claims = jwt.decode(self.access_token, options={"verify_signature": False})
        return str(claims["sid"])

    def note(self, what: str, answer: Answer) -> Answer:
        self.seen.append(
            Seen(
                time.monotonic(),
                what,
                answer.status,
                answer.headers.get("Retry-After"),
                code_of(answer) if answer.status >= 400 else None,
            )
        )
        return answer


def log_in(server: Server) -> Client:
    answer = server.post("/api/auth/login/", DEMO)
    assert answer.status == 200, answer.body
    body = answer.json()
    return Client(body["refresh_token"], body["access_token"])


def drive(server: Server, client: Client, stop: threading.Event) -> None:
    """Refresh and call the API in a loop until told to stop or the session ends."""
    while not stop.is_set():
        answer = client.note(
            "refresh", server.post("/api/auth/refresh/", {"refresh_token": client.refresh_token})
        )
        if answer.status == 200:
            body = answer.json()
            client.refresh_token = body["refresh_token"]
            client.access_token = body["access_token"]
        elif answer.status == 401:
            client.ended = code_of(answer)
            return
        else:
            stop.wait(0.2)
            continue
        me = client.note("me", server.get("/api/me/", token=client.access_token))
        if me.status == 401:
            client.ended = code_of(me)
            return
        stop.wait(0.05)


def outage(stop_command: str, start_command: str) -> tuple[float, float]:
    began = time.monotonic()
    run(stop_command)
    time.sleep(DOWN_SECONDS)
    run(start_command)
    return began, time.monotonic()


def sessions_in_database(database_url: str) -> dict[str, tuple[str, bool]]:
    """Each session's current token digest and whether it is revoked, read from the
    server's database."""
    import psycopg

    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT id::text, jti_hash, revoked_at IS NOT NULL FROM refreshauth_refreshtoken"
        ).fetchall()
    return {sid.replace("-", ""): (jti_hash, revoked) for sid, jti_hash, revoked in rows}


def test_restarts_of_postgres_and_redis_under_load(server: Server, env: dict[str, str]) -> None:
    clients = [log_in(server) for _ in range(CLIENTS)]
    stop = threading.Event()
    windows: dict[str, tuple[float, float]] = {}
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        running = [pool.submit(drive, server, client, stop) for client in clients]
        try:
            time.sleep(SETTLE_SECONDS)
            windows["PostgreSQL"] = outage("POSTGRES_STOP", "POSTGRES_START")
            time.sleep(SETTLE_SECONDS)
            windows["Redis"] = outage("REDIS_STOP", "REDIS_START")
            time.sleep(SETTLE_SECONDS)
        finally:
            stop.set()
        for future in running:
            future.result()

    seen = [s for client in clients for s in client.seen]
    statuses = Counter((s.what, s.status) for s in seen)
    ended = Counter(client.ended for client in clients if client.ended)
    print(f"\nanswers {dict(statuses)}; sessions ended {dict(ended)}")
    # Never a 500 (the server fixture also reads its log for one), nothing undocumented.
    assert {status for _, status in statuses} <= {200, 401, 503}, statuses
    for s in seen:
        if s.status == 503:
            assert s.retry_after is not None and int(s.retry_after) >= 1, s
        if s.status == 401:
            assert s.code in ENDED, s
    # Each outage was seen by the clients, as 503s.
    for name, (began, ended_at) in windows.items():
        during = [s for s in seen if began <= s.at <= ended_at + 1 and s.status == 503]
        assert during, f"no 503 while {name} was down"

    # Afterwards: each session is live with exactly one current token, the client's
    # last one, which refreshes; or it is revoked, and every token of it is refused.
    rows = sessions_in_database(env["DATABASE_URL"])
    for client in clients:
        jti_hash, revoked = rows[client.session_id.replace("-", "")]
        answer = server.post("/api/auth/refresh/", {"refresh_token": client.refresh_token})
        if revoked:
            assert (answer.status, code_of(answer)) == (401, "token_revoked"), answer.body
            me = server.get("/api/me/", token=client.access_token)
            assert (me.status, code_of(me)) == (401, "token_revoked"), me.body
        else:
            assert client.ended is None, client.ended
            current = jwt.decode(client.refresh_token, options={"verify_signature": False})
            assert jti_hash == digest(current["jti"]), "the session's token is not the client's"
            assert answer.status == 200, answer.body
            me = server.get("/api/me/", token=answer.json()["access_token"])
            assert me.status == 200, me.body
    # An outage of a few seconds may end a session whose answer was lost, not most.
    assert sum(1 for _, revoked in rows.values() if not revoked) >= CLIENTS // 2, rows


def until_answered(call: Callable[[], Answer], seconds: float = 15) -> Answer:
    """The first answer that is not a 503 (a service that just came back)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = call()
        if answer.status != 503 or time.monotonic() > deadline:
            return answer
        assert answer.headers.get("Retry-After"), answer.headers
        time.sleep(0.2)


def test_a_revoked_sessions_access_token_stays_refused_after_redis_restarts_and_flushes(
    server: Server,
) -> None:
    import redis

    revoked = log_in(server)
    live = log_in(server)
    for client in (revoked, live):
        assert server.get("/api/me/", token=client.access_token).status == 200
    logout = server.post("/api/auth/logout/", {"refresh_token": revoked.refresh_token})
    assert logout.status == 204

    def me(client: Client) -> tuple[int, Any]:
        answer = until_answered(lambda: server.get("/api/me/", token=client.access_token))
        return answer.status, code_of(answer) if answer.status != 200 else None

    assert me(revoked) == (401, "token_revoked")
    run("REDIS_STOP")
    run("REDIS_START")
    assert me(revoked) == (401, "token_revoked")
    assert me(live) == (200, None)

    # FLUSHALL empties every database of the server: the session state, the counters.
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushall()
    assert me(revoked) == (401, "token_revoked")
    assert me(live) == (200, None)
