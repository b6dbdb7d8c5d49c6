"""The example project behind a primary/replica router (REPLICA_DATABASE_URL), driven over
HTTP under gunicorn or uvicorn. The replica is a copy taken before any session existed
and never updated: a replica that lags forever. Every decision still comes out as on a
single database, and the replica ends the test without a single session row, which is
what makes it a test."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from .server import ROOT, Server, environment, prepare, serve

pytestmark = pytest.mark.server

DEMO = {"username": "demo", "password": "demo-password-123"}


def replica_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return url.replace(".sqlite3", "-replica.sqlite3")
    return urlunsplit(parts._replace(path=parts.path + "_replica"))


def shell(env: dict[str, str], code: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def replicated(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, dict[str, str]]]:
    tmp: Path = tmp_path_factory.mktemp("replica")
    env = environment(tmp)
    prepare(env)
    replica = replica_url(env["DATABASE_URL"])
    prepare({**env, "DATABASE_URL": replica})
    env["REPLICA_DATABASE_URL"] = replica
    # The replica's users are the primary's, password hashes included.
    shell(
        env,
        "from django.contrib.auth.models import User; "
        "[u.save(using='replica') for u in User.objects.using('default')]; print('ok')",
    )
    with serve(env, workers=2, threads=4) as server:
        yield server, env


def login(server: Server) -> dict[str, Any]:
    answer = server.post("/api/auth/login/", DEMO)
    assert answer.status == 200, answer.body
    return dict(answer.json())


def refresh(server: Server, tokens: dict[str, Any]) -> Any:
    return server.post("/api/auth/refresh/", {"refresh_token": tokens["refresh_token"]})


def revoked(server: Server, tokens: dict[str, Any]) -> bool:
    """Both of the session's tokens are refused as revoked."""
    again = refresh(server, tokens)
    me = server.get("/api/me/", token=tokens["access_token"])
    return (again.status, again.json()["code"], me.status) == (401, "token_revoked", 401)


def sid(tokens: dict[str, Any]) -> str:
    payload = tokens["access_token"].split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sid"])


def test_a_replica_that_never_catches_up_decides_nothing(
    replicated: tuple[Server, dict[str, str]],
) -> None:
    server, env = replicated
    # Refreshes right after a login and right after a refresh: no false reuse alarm.
    tokens = login(server)
    for _ in range(3):
        answer = refresh(server, tokens)
        assert answer.status == 200, answer.body
        tokens = answer.json()
    assert server.get("/api/me/", token=tokens["access_token"]).status == 200

    # A logout right after the login revokes.
    fresh = login(server)
    assert (
        server.post("/api/auth/logout/", {"refresh_token": fresh["refresh_token"]}).status == 204
    )
    assert revoked(server, fresh)

    # Log out everywhere reaches the sessions the replica has not seen.
    caller, other = login(server), login(server)
    assert server.post("/api/auth/logout-all/", token=caller["access_token"]).status == 204
    assert revoked(server, caller) and revoked(server, other) and revoked(server, tokens)

    # sessions/<id>/ DELETE too.
    caller, other = login(server), login(server)
    path = f"/api/auth/sessions/{sid(other)}/"
    assert server.request("DELETE", path, token=caller["access_token"]).status == 204
    assert revoked(server, other)
    assert server.get("/api/me/", token=caller["access_token"]).status == 200

    # The replica saw none of it; the primary holds every session.
    count = (
        "from refreshauth.models import RefreshToken as R; print(R.objects.using({!r}).count())"
    )
    assert shell(env, count.format("replica")) == "0"
    assert shell(env, count.format("default")) == "6"  # six logins
