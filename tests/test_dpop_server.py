"""DPoP against the example project under a multi-process server, over HTTP: with
``DPOP = "allowed"`` and ``"required"``, a replayed proof refused by another worker, and a
standard DPoP client that refreshreshauth did not write (requests-oauth2client)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from refreshauth.dpop import ath_of

from .server import Answer, Server, environment, prepare, serve

pytestmark = pytest.mark.server

DEMO = {"username": "demo", "password": "demo-password-123"}


class Key:
    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.jwk = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)

    def proof(self, server: Server, method: str, path: str, token: str | None = None) -> str:
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": server.base_url + path,
            "iat": int(time.time()),
        }
        if token is not None:
            claims["ath"] = ath_of(token)
        return jwt.encode(
            claims, self.private, "ES256", headers={"typ": "dpop+jwt", "jwk": self.jwk}
        )


def started(tmp: Any, mode: str) -> Iterator[Server]:
    env = environment(tmp, {"REFRESHAUTH_DPOP": mode})
    prepare(env)
    with serve(env) as server:
        yield server


@pytest.fixture(scope="module")
def allowed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from started(tmp_path_factory.mktemp("dpop-allowed"), "allowed")


@pytest.fixture(scope="module")
def required(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from started(tmp_path_factory.mktemp("dpop-required"), "required")


def login(server: Server, key: Key | None) -> Answer:
    headers = {"DPoP": key.proof(server, "POST", "/api/auth/login/")} if key else {}
    return server.post("/api/auth/login/", DEMO, headers=headers)


def refresh(server: Server, token: str, key: Key | None, proof: str | None = None) -> Answer:
    headers = {}
    if key is not None:
        headers["DPoP"] = proof or key.proof(server, "POST", "/api/auth/refresh/")
    return server.post("/api/auth/refresh/", {"refresh_token": token}, headers=headers)


def me(server: Server, token: str, key: Key, proof: str | None = None) -> Answer:
    return server.get(
        "/api/me/",
        headers={
            "Authorization": f"DPoP {token}",
            "DPoP": proof or key.proof(server, "GET", "/api/me/", token),
        },
    )


def test_a_bound_session_over_http(allowed: Server) -> None:
    key = Key()
    body = login(allowed, key).json()
    assert body["token_type"] == "DPoP"
    assert me(allowed, body["access_token"], key).status == 200
    stolen = body["refresh_token"]
    assert refresh(allowed, stolen, Key()).json()["code"] == "invalid_dpop_proof"
    assert refresh(allowed, stolen, None).status == 400
    renewed = refresh(allowed, stolen, key)
    assert renewed.status == 200, renewed.body
    bearer = allowed.get("/api/me/", token=renewed.json()["access_token"])
    assert bearer.status == 401 and bearer.json()["code"] == "token_invalid"


def test_allowed_still_opens_bearer_sessions(allowed: Server) -> None:
    body = login(allowed, None).json()
    assert body["token_type"] == "Bearer"
    assert allowed.get("/api/me/", token=body["access_token"]).status == 200


def test_a_replayed_proof_is_refused_by_every_worker(allowed: Server) -> None:
    """Workers share nothing but the database and the cache: the replay cache must be the
    shared one. Forty replays of one proof over fresh connections land on several
    workers; exactly the first is accepted."""
    key = Key()
    token = login(allowed, key).json()["access_token"]
    proof = key.proof(allowed, "GET", "/api/me/", token)
    statuses = [me(allowed, token, key, proof).status for _ in range(40)]
    assert statuses == [200] + [401] * 39


def test_required_refuses_bearer_logins(required: Server) -> None:
    answer = login(required, None)
    assert answer.status == 400
    assert answer.json() == {
        "detail": answer.json()["detail"],
        "code": "invalid_dpop_proof",
        "error": "invalid_dpop_proof",
    }
    key = Key()
    body = login(required, key).json()
    assert refresh(required, body["refresh_token"], key).status == 200


def test_requests_oauth2client_refreshes_and_calls_the_api(allowed: Server) -> None:
    """A standard RFC 9449 client: it refreshes with the RFC 6749 form and a proof of its
    own, then calls the API with its DPoPToken."""
    requests_oauth2client = pytest.importorskip("requests_oauth2client")
    import requests

    dpop_key = requests_oauth2client.DPoPKey.generate(alg="ES256")
    login_proof = str(dpop_key.proof(htm="POST", htu=allowed.base_url + "/api/auth/login/"))
    body = allowed.post("/api/auth/login/", DEMO, headers={"DPoP": login_proof}).json()
    assert body["token_type"] == "DPoP"
    client = requests_oauth2client.OAuth2Client(
        token_endpoint=allowed.base_url + "/api/auth/refresh/",
        client_id="example-app",
        dpop_bound_access_tokens=True,
        testing=True,  # the test server speaks plain HTTP on 127.0.0.1
    )
    # What the login answered, as the client's own token object: it then proves every
    # refresh and API call with the same key.
    logged_in = requests_oauth2client.DPoPToken(
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
        expires_in=body["expires_in"],
        _dpop_key=dpop_key,
    )
    token = client.refresh_token(logged_in)
    assert isinstance(token, requests_oauth2client.DPoPToken)
    response = requests.get(allowed.base_url + "/api/me/", auth=token, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["username"] == "demo"
    again = client.refresh_token(token)
    assert requests.get(allowed.base_url + "/api/me/", auth=again, timeout=30).status_code == 200
    with pytest.raises(requests_oauth2client.InvalidGrant):
        client.refresh_token(logged_in)  # a rotated token again: reuse
