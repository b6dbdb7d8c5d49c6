"""Attacks on access-token authentication: every forged token is refused with a 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from rest_framework.test import APIClient

from refreshauth import sessions, tokens
from refreshauth.authentication import AccessTokenAuthentication

pytestmark = pytest.mark.django_db


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def me(api: APIClient, token: str, scheme: str = "Bearer") -> Any:
    return api.get("/api/me/", HTTP_AUTHORIZATION=f"{scheme} {token}")


def resign(token: str, *, header: dict[str, Any] | None = None, **claims: Any) -> str:
    """Re-sign ``token`` with the real access key after changing its header or claims."""
    h, p, _ = parts(token)
    p.update(claims)
    p = {k: v for k, v in p.items() if v is not None}
    key = tokens.access_keys().current
    return jwt.encode(p, key.signing, "HS256", headers={**h, **(header or {})})


@pytest.fixture
def access(user: Any) -> str:
    return sessions.open_session(user).access_token


def assert_refused(response: Any, code: str = "token_invalid") -> None:
    assert response.status_code == 401, response.content
    assert response.json()["code"] == code
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_valid_token_authenticates(api: APIClient, user: Any, access: str) -> None:
    response = me(api, access)
    assert response.status_code == 200
    assert response.json() == {"id": user.pk, "username": "alice"}


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_scheme_in_any_letter_case(api: APIClient, access: str, scheme: str) -> None:
    assert me(api, access, scheme).status_code == 200


def test_no_credentials_is_not_authenticated(api: APIClient) -> None:
    response = api.get("/api/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_other_scheme_is_ignored(api: APIClient, access: str) -> None:
    response = me(api, access, "Token")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_unsigned_token_is_refused(api: APIClient, access: str, alg: str) -> None:
    header, payload, _ = parts(access)
    assert_refused(me(api, f"{b64({**header, 'alg': alg})}.{b64(payload)}."))


def test_wrong_key_is_refused(api: APIClient, access: str) -> None:
    header, payload, _ = parts(access)
    assert_refused(me(api, jwt.encode(payload, "x" * 64, "HS256", headers=header)))


def test_flipped_signature_byte_is_refused(api: APIClient, access: str) -> None:
    head, body, signature = access.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 1
    assert_refused(me(api, f"{head}.{body}.{b64(bytes(raw))}"))


def test_changed_payload_is_refused(api: APIClient, access: str) -> None:
    head, _, signature = access.split(".")
    _, payload, _ = parts(access)
    assert_refused(me(api, f"{head}.{b64({**payload, 'sub': '999'})}.{signature}"))


def test_refresh_token_as_access_token_is_refused(api: APIClient, user: Any) -> None:
    assert_refused(me(api, sessions.open_session(user).refresh_token))


@pytest.mark.parametrize("typ", ["JWT", "rt+jwt", "", "at+jwt2", None])
def test_wrong_typ_is_refused(api: APIClient, access: str, typ: str | None) -> None:
    header, payload, _ = parts(access)
    header = {k: v for k, v in {**header, "typ": typ}.items() if v is not None}
    key = tokens.access_keys().current
    assert_refused(me(api, jwt.encode(payload, key.signing, "HS256", headers=header)))


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/At+JWT"])
def test_access_typ_in_any_case_is_accepted(api: APIClient, access: str, typ: str) -> None:
    assert me(api, resign(access, header={"typ": typ})).status_code == 200


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "jti", "sid"])
def test_missing_required_claim_is_refused(api: APIClient, access: str, claim: str) -> None:
    assert_refused(me(api, resign(access, **{claim: None})))


@pytest.mark.parametrize(
    "claim,value", [("sub", 1), ("sid", 5), ("jti", ["x"]), ("exp", "99999999999"), ("iat", 1.5)]
)
def test_wrongly_typed_claim_is_refused(
    api: APIClient, access: str, claim: str, value: Any
) -> None:
    assert_refused(me(api, resign(access, **{claim: value})))


def test_future_iat_is_refused(api: APIClient, access: str) -> None:
    _, payload, _ = parts(access)
    assert_refused(me(api, resign(access, iat=payload["iat"] + 3600)))


def test_future_nbf_is_refused(api: APIClient, access: str) -> None:
    _, payload, _ = parts(access)
    assert_refused(me(api, resign(access, nbf=payload["iat"] + 3600)))


def test_expired_access_token(api: APIClient, user: Any, clock: Any) -> None:
    token = sessions.open_session(user).access_token
    clock.advance(timedelta(minutes=15, seconds=1))
    assert_refused(me(api, token), "token_expired")


def test_expired_within_leeway_is_accepted(
    api: APIClient, user: Any, clock: Any, settings: Any
) -> None:
    settings.REFRESHAUTH = {"LEEWAY": timedelta(seconds=30)}
    token = sessions.open_session(user).access_token
    clock.advance(timedelta(minutes=15, seconds=20))
    assert me(api, token).status_code == 200
    clock.advance(timedelta(seconds=11))
    assert_refused(me(api, token), "token_expired")


def test_issuer_and_audience_are_enforced(api: APIClient, user: Any, settings: Any) -> None:
    settings.REFRESHAUTH = {"ISSUER": "https://auth.example.com", "AUDIENCE": "api"}
    token = sessions.open_session(user).access_token
    _, payload, _ = parts(token)
    assert (payload["iss"], payload["aud"]) == ("https://auth.example.com", "api")
    assert me(api, token).status_code == 200
    assert_refused(me(api, resign(token, iss="https://evil.example.com")))
    assert_refused(me(api, resign(token, aud="other")))
    assert_refused(me(api, resign(token, iss=None)))
    assert_refused(me(api, resign(token, aud=None)))


def test_audience_not_configured_refuses_tokens_with_one(api: APIClient, access: str) -> None:
    assert_refused(me(api, resign(access, aud="somewhere")))


@pytest.mark.parametrize(
    "extra",
    [
        {"crit": ["exp"]},
        {"jku": "http://127.0.0.1:1/keys"},
        {"x5u": "http://127.0.0.1:1/cert"},
        {"jwk": {"kty": "oct", "k": "AAAA"}},
        {"x5c": ["AAAA"]},
    ],
)
def test_dangerous_headers_are_refused(api: APIClient, access: str, extra: dict[str, Any]) -> None:
    assert_refused(me(api, resign(access, header=extra)))


@pytest.mark.parametrize("kid", ["../../etc/passwd", "' OR 1=1 --", "k" * 10_000, 7, None])
def test_hostile_kid_is_refused(api: APIClient, access: str, kid: Any) -> None:
    header, payload, _ = parts(access)
    header = {k: v for k, v in {**header, "kid": kid}.items() if v is not None}
    signing_input = f"{b64(header)}.{b64(payload)}"
    mac = hmac.new(tokens.access_keys().current.signing, signing_input.encode(), hashlib.sha256)
    assert_refused(me(api, f"{signing_input}.{b64(mac.digest())}"))


@pytest.mark.parametrize(
    "credential",
    [
        "a.b.c.d",
        "a.b",
        "....",
        "x" * 9000,
        "ab\u00e9.cd.ef",
        "two words",
        "eyJhbGciOiJIUzI1NiJ9.e30.",
    ],
)
def test_malformed_credentials_are_refused(api: APIClient, credential: str) -> None:
    assert_refused(me(api, credential))


def test_empty_bearer_is_refused(api: APIClient) -> None:
    assert_refused(api.get("/api/me/", HTTP_AUTHORIZATION="Bearer "))


def test_token_in_query_string_is_ignored(api: APIClient, access: str) -> None:
    response = api.get(f"/api/me/?access_token={access}")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_revoked_session_access_token_is_refused(
    api: APIClient, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    result = sessions.open_session(user)
    assert me(api, result.access_token).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        sessions.revoke_token(result.refresh_token)
    assert_refused(me(api, result.access_token), "token_revoked")


def test_revocation_rolled_back_denylists_nothing(
    api: APIClient, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import transaction

    result = sessions.open_session(user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                sessions.revoke_token(result.refresh_token)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert callbacks == []
    assert me(api, result.access_token).status_code == 200


def test_without_revoke_access_tokens_they_live_until_exp(
    api: APIClient, user: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.REFRESHAUTH = {"REVOKE_ACCESS_TOKENS": False}
    result = sessions.open_session(user)
    with django_capture_on_commit_callbacks(execute=True):
        sessions.revoke_token(result.refresh_token)
    assert me(api, result.access_token).status_code == 200


def test_inactive_user_is_refused(api: APIClient, user: Any, access: str) -> None:
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert_refused(me(api, access), "token_revoked")


def test_deleted_user_is_refused(api: APIClient, user: Any, access: str) -> None:
    user.delete()
    assert_refused(me(api, access), "token_revoked")


def test_cache_outage_is_503_not_an_open_door(
    api: APIClient, access: str, break_cache: Any
) -> None:
    break_cache("get")
    response = me(api, access)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"


def test_authenticate_costs_two_queries_cold_and_one_warm(
    rf: Any, access: str, django_assert_num_queries: Any
) -> None:
    from rest_framework.request import Request

    request = Request(rf.get("/", HTTP_AUTHORIZATION=f"Bearer {access}"))
    with django_assert_num_queries(2):  # the session's state, then the user
        user, claims = AccessTokenAuthentication().authenticate(request)  # type: ignore[misc]
    assert claims["sid"] and user.username == "alice"
    with django_assert_num_queries(1):  # the state is cached: the user only
        user, claims = AccessTokenAuthentication().authenticate(request)  # type: ignore[misc]
    assert user.username == "alice"


@pytest.mark.parametrize("spelling", [" {}", "0{}", "{} ", "+{}"])
def test_a_subject_is_matched_exactly(
    api: APIClient, user: Any, access: str, spelling: str
) -> None:
    forged = resign(access, sub=spelling.format(user.pk))  # int() reads it as the user's pk
    assert_refused(me(api, forged), "token_invalid")


def test_a_user_hidden_by_a_soft_delete_manager_can_neither_refresh_nor_authenticate(
    api: APIClient, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import UserManager

    from refreshauth.exceptions import RevokedToken

    class Visible(UserManager[Any]):
        def get_queryset(self) -> Any:
            return super().get_queryset().exclude(last_name="deleted")

    model = get_user_model()
    opened = sessions.open_session(user)
    model.objects.filter(pk=user.pk).update(last_name="deleted")
    manager = Visible()
    manager.model = model
    manager.name = "objects"
    monkeypatch.setitem(model._meta.__dict__, "default_manager", manager)
    assert me(api, opened.access_token).status_code == 401
    with pytest.raises(RevokedToken):
        sessions.rotate(opened.refresh_token)
