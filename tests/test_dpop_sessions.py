"""DPoP-bound sessions end to end (SPEC section 11): the binding at login, every refresh
and API call needing a fresh proof by the same key, and every failure changing nothing."""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.cache import caches
from jwt.algorithms import ECAlgorithm
from rest_framework.test import APIClient

from refreshauth import sessions, tokens
from refreshauth.dpop import ath_of, thumbprint, verify_proof
from refreshauth.models import RefreshToken

from .factories import PASSWORD

pytestmark = pytest.mark.django_db

SERVER = "http://testserver"
LOGIN = "/api/auth/login/"
REFRESH = "/api/auth/refresh/"
ME = "/api/me/"


class Key:
    """A client's P-256 key pair, as the browser client or a mobile app holds it."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.jwk = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.jkt = thumbprint(self.jwk)

    def proof(
        self,
        method: str,
        path: str,
        *,
        access_token: str | None = None,
        jti: str | None = None,
        iat: int | None = None,
    ) -> str:
        claims: dict[str, Any] = {
            "jti": jti or secrets.token_urlsafe(16),
            "htm": method,
            "htu": SERVER + path,
            "iat": int(time.time()) if iat is None else iat,
        }
        if access_token is not None:
            claims["ath"] = ath_of(access_token)
        return jwt.encode(
            claims, self.private, "ES256", headers={"typ": "dpop+jwt", "jwk": self.jwk}
        )


@pytest.fixture(autouse=True)
def _dpop_allowed(settings: Any) -> None:
    settings.REFRESHAUTH = {"DPOP": "allowed"}


@pytest.fixture
def key() -> Key:
    return Key()


def login(api: APIClient, key: Key | None, **extra: Any) -> Any:
    if key is not None:
        extra.setdefault("HTTP_DPOP", key.proof("POST", LOGIN))
    return api.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json", **extra)


def refresh(api: APIClient, token: str, key: Key | None, **extra: Any) -> Any:
    if key is not None:
        extra.setdefault("HTTP_DPOP", key.proof("POST", REFRESH))
    return api.post(REFRESH, {"refresh_token": token}, format="json", **extra)


def me(api: APIClient, token: str, key: Key | None, scheme: str = "DPoP", **extra: Any) -> Any:
    if key is not None:
        extra.setdefault("HTTP_DPOP", key.proof("GET", ME, access_token=token))
    return api.get(ME, HTTP_AUTHORIZATION=f"{scheme} {token}", **extra)


def row() -> dict[str, Any]:
    return dict(RefreshToken.objects.values().get())


@pytest.fixture
def bound(api: APIClient, user: Any, key: Key) -> dict[str, Any]:
    response = login(api, key)
    assert response.status_code == 200, response.content
    return dict(response.json())


def assert_bad_proof(response: Any, status: int = 400) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == "invalid_dpop_proof"
    if status == 400:
        assert body["error"] == "invalid_dpop_proof"


def test_a_login_with_a_proof_binds_the_session(
    api: APIClient, bound: dict[str, Any], key: Key
) -> None:
    assert bound["token_type"] == "DPoP"
    claims = tokens.decode_access(bound["access_token"])
    assert claims["cnf"] == {"jkt": key.jkt}
    assert RefreshToken.objects.get().dpop_jkt == key.jkt
    items = api.get(
        "/api/auth/sessions/",
        HTTP_AUTHORIZATION=f"DPoP {bound['access_token']}",
        HTTP_DPOP=key.proof("GET", "/api/auth/sessions/", access_token=bound["access_token"]),
    ).json()
    assert [i["dpop"] for i in items] == [True]


def test_a_bound_session_refreshes_with_a_proof_by_its_key(
    api: APIClient, bound: dict[str, Any], key: Key
) -> None:
    response = refresh(api, bound["refresh_token"], key)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "DPoP"
    assert tokens.decode_access(body["access_token"])["cnf"] == {"jkt": key.jkt}
    assert refresh(api, body["refresh_token"], key).status_code == 200


@pytest.mark.parametrize(
    "attack",
    ["no proof", "another key", "replayed", "for another URL", "for GET", "stale", "garbage"],
)
def test_a_refresh_without_a_valid_proof_changes_nothing(
    api: APIClient, bound: dict[str, Any], key: Key, attack: str
) -> None:
    before = row()
    token = bound["refresh_token"]
    proofs = {
        "no proof": None,
        "another key": Key().proof("POST", REFRESH),
        "for another URL": key.proof("POST", "/api/auth/logout/"),
        "for GET": key.proof("GET", REFRESH),
        "stale": key.proof("POST", REFRESH, iat=int(time.time()) - 120),
        "garbage": "not.a.proof",
    }
    if attack == "replayed":
        used = key.proof("POST", REFRESH)
        first = refresh(api, token, key, HTTP_DPOP=used)
        assert first.status_code == 200
        token = first.json()["refresh_token"]
        before = row()
        response = refresh(api, token, key, HTTP_DPOP=used)
    elif attack == "no proof":
        response = refresh(api, token, None)
    else:
        response = refresh(api, token, key, HTTP_DPOP=proofs[attack])
    assert_bad_proof(response)
    assert row() == before
    assert refresh(api, token, key).status_code == 200  # the owner is unaffected


def test_a_stolen_refresh_token_is_worthless_without_the_key(
    bound: dict[str, Any], key: Key
) -> None:
    thief = APIClient()
    assert_bad_proof(refresh(thief, bound["refresh_token"], Key()))
    assert_bad_proof(refresh(thief, bound["refresh_token"], None))
    assert RefreshToken.objects.get().revoked_at is None


def test_the_api_takes_a_bound_token_with_a_proof(
    api: APIClient, bound: dict[str, Any], key: Key
) -> None:
    response = me(api, bound["access_token"], key)
    assert response.status_code == 200, response.content
    assert response.json()["username"] == "alice"


def dpop_challenge(response: Any, error: str) -> None:
    assert response.status_code == 401, response.content
    challenge = response.headers["WWW-Authenticate"]
    assert challenge == f'DPoP algs="ES256 EdDSA RS256 PS256", error="{error}"'


@pytest.mark.parametrize(
    "attack", ["no proof", "another key", "wrong ath", "no ath", "replayed", "for POST"]
)
def test_the_api_refuses_a_bound_token_without_a_valid_proof(
    api: APIClient, bound: dict[str, Any], key: Key, attack: str
) -> None:
    token = bound["access_token"]
    proofs = {
        "another key": Key().proof("GET", ME, access_token=token),
        "wrong ath": key.proof("GET", ME, access_token=token + "x"),
        "no ath": key.proof("GET", ME),
        "for POST": key.proof("POST", ME, access_token=token),
    }
    if attack == "replayed":
        used = key.proof("GET", ME, access_token=token)
        assert me(api, token, key, HTTP_DPOP=used).status_code == 200
        response = me(api, token, key, HTTP_DPOP=used)
    elif attack == "no proof":
        response = me(api, token, None)
    else:
        response = me(api, token, key, HTTP_DPOP=proofs[attack])
    dpop_challenge(response, "invalid_dpop_proof")
    assert response.json()["code"] == "invalid_dpop_proof"


def test_a_bound_token_downgraded_to_bearer_is_refused(
    api: APIClient, bound: dict[str, Any]
) -> None:
    response = me(api, bound["access_token"], None, scheme="Bearer")
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_a_bearer_token_sent_as_dpop_is_refused(api: APIClient, user: Any, key: Key) -> None:
    body = login(api, None).json()
    assert body["token_type"] == "Bearer"
    response = me(api, body["access_token"], key)
    dpop_challenge(response, "invalid_token")
    assert response.json()["code"] == "token_invalid"
    assert me(api, body["access_token"], None, scheme="Bearer").status_code == 200


def test_required_refuses_logins_and_refreshes_without_a_proof(
    api: APIClient, user: Any, key: Key, settings: Any
) -> None:
    unbound = login(api, None).json()  # opened while DPoP was only allowed
    settings.REFRESHAUTH = {"DPOP": "required"}
    assert_bad_proof(login(api, None))
    assert RefreshToken.objects.count() == 1
    before = row()
    assert_bad_proof(refresh(api, unbound["refresh_token"], None))
    assert row() == before
    assert login(api, key).json()["token_type"] == "DPoP"


@pytest.mark.parametrize("header", ["x" * 100_000, "a.b.c, d.e.f"])
def test_an_oversized_or_doubled_dpop_header_is_400(
    api: APIClient, user: Any, header: str
) -> None:
    assert_bad_proof(login(api, None, HTTP_DPOP=header))
    assert not RefreshToken.objects.exists()


def test_two_dpop_headers_are_refused(api: APIClient, user: Any, key: Key) -> None:
    doubled = f"{key.proof('POST', LOGIN)},{key.proof('POST', LOGIN)}"
    assert_bad_proof(login(api, None, HTTP_DPOP=doubled))
    assert not RefreshToken.objects.exists()


def test_a_bad_proof_at_login_costs_no_password_guess(api: APIClient, user: Any) -> None:
    response = api.post(
        LOGIN,
        {"username": "alice", "password": "wrong"},
        format="json",
        HTTP_DPOP="not.a.proof",
    )
    assert_bad_proof(response)


def test_a_replay_cache_that_cannot_answer_is_503(
    api: APIClient, bound: dict[str, Any], key: Key, break_cache: Any
) -> None:
    before = row()
    break_cache("add")
    response = refresh(api, bound["refresh_token"], key)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert row() == before


def test_the_python_api_opens_bound_sessions(user: Any, key: Key, settings: Any) -> None:
    from datetime import timedelta

    proof = verify_proof(
        key.proof("POST", "/sso/callback"),
        method="POST",
        url=SERVER + "/sso/callback",
        algorithms=["ES256"],
        max_age=timedelta(seconds=60),
        leeway=timedelta(0),
    )
    opened = sessions.open_session(user, proof=proof)
    assert opened.token_type == "DPoP"
    assert opened.as_dict()["token_type"] == "DPoP"
    assert tokens.decode_access(opened.access_token)["cnf"]["jkt"] == key.jkt
    from refreshauth.exceptions import InvalidDPoPProof

    with pytest.raises(InvalidDPoPProof):
        sessions.rotate(opened.refresh_token)  # no proof
    with pytest.raises(InvalidDPoPProof):
        sessions.open_session(user, proof=proof)  # the same proof twice


def test_off_ignores_dpop_headers(api: APIClient, user: Any, key: Key, settings: Any) -> None:
    settings.REFRESHAUTH = {"DPOP": "off"}
    assert login(api, key).json()["token_type"] == "Bearer"
    assert caches["default"].get("refreshauth:dpop:x") is None
