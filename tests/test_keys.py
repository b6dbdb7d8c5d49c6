"""Key rotation with fallbacks, asymmetric access tokens, and jwks/."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from rest_framework.test import APIClient

from refreshauth import sessions, tokens
from refreshauth.exceptions import InvalidToken

pytestmark = pytest.mark.django_db


def pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(key: Any) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_KEY_2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()


def me(api: APIClient, token: str) -> Any:
    return api.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {token}")


def kid(token: str) -> str:
    return str(tokens._read_header(token)["kid"])


def test_secret_key_rotation_keeps_sessions(api: APIClient, user: Any, settings: Any) -> None:
    settings.SECRET_KEY = "old-secret-key-" + "x" * 40
    old = sessions.open_session(user)
    settings.SECRET_KEY = "new-secret-key-" + "y" * 40
    settings.SECRET_KEY_FALLBACKS = ["old-secret-key-" + "x" * 40]
    assert me(api, old.access_token).status_code == 200
    new = sessions.rotate(old.refresh_token)
    assert kid(new.access_token) != kid(old.access_token)
    assert kid(new.refresh_token) != kid(old.refresh_token)
    settings.SECRET_KEY_FALLBACKS = []
    assert me(api, old.access_token).status_code == 401
    assert me(api, new.access_token).status_code == 200
    sessions.rotate(new.refresh_token)


def test_explicit_fallbacks_verify_but_never_sign(
    api: APIClient, user: Any, settings: Any
) -> None:
    a1, a2, r1, r2 = ("a1" * 20, "a2" * 20, "r1" * 20, "r2" * 20)
    settings.REFRESHAUTH = {"ACCESS_TOKEN_SECRET": a1, "REFRESH_TOKEN_SECRET": r1}
    old = sessions.open_session(user)
    settings.REFRESHAUTH = {
        "ACCESS_TOKEN_SECRET": a2,
        "ACCESS_TOKEN_SECRET_FALLBACKS": [a1],
        "REFRESH_TOKEN_SECRET": r2,
        "REFRESH_TOKEN_SECRET_FALLBACKS": [r1],
    }
    assert me(api, old.access_token).status_code == 200
    new = sessions.rotate(old.refresh_token)
    jwt.decode(new.access_token, a2, algorithms=["HS256"], options={"verify_signature": True})
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(new.access_token, a1, algorithms=["HS256"])


def test_grace_retry_across_a_key_rotation(user: Any, settings: Any) -> None:
    settings.REFRESHAUTH = {"REUSE_GRACE_PERIOD": timedelta(seconds=10)}
    settings.SECRET_KEY = "before-" + "k" * 50
    first = sessions.open_session(user)
    winner = sessions.rotate(first.refresh_token)
    settings.SECRET_KEY = "after-" + "q" * 50
    settings.SECRET_KEY_FALLBACKS = ["before-" + "k" * 50]
    retry = sessions.rotate(first.refresh_token)
    assert (
        tokens.decode_refresh(retry.refresh_token).claims["jti"]
        == (tokens.decode_refresh(winner.refresh_token).claims["jti"])
    )


def test_kid_selects_the_key_without_trying_each(user: Any, settings: Any) -> None:
    settings.SECRET_KEY_FALLBACKS = ["fallback-" + "f" * 50]
    token = sessions.open_session(user).access_token
    header, payload, _ = token.split(".")
    fallback = next(k for k in tokens.access_keys().by_kid.values() if k.kid != kid(token))
    mac = hmac.new(fallback.signing, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(InvalidToken):
        tokens.decode_access(forged)


@pytest.mark.parametrize(
    "algorithm,key,kty",
    [("RS256", RSA_KEY, "RSA"), ("ES256", EC_KEY, "EC"), ("EdDSA", ED_KEY, "OKP")],
)
def test_asymmetric_access_tokens(
    api: APIClient, user: Any, settings: Any, algorithm: str, key: Any, kty: str
) -> None:
    settings.REFRESHAUTH = {
        "ALGORITHM": algorithm,
        "ACCESS_TOKEN_PRIVATE_KEY": pem(key),
        "ISSUER": "https://auth.example.com",
        "AUDIENCE": "api",
    }
    result = sessions.open_session(user)
    assert tokens._read_header(result.access_token)["alg"] == algorithm
    assert me(api, result.access_token).status_code == 200
    # Refresh tokens stay HMAC.
    assert tokens._read_header(result.refresh_token)["alg"] == "HS256"
    jwks = api.get("/api/auth/jwks/").json()
    assert [k["kty"] for k in jwks["keys"]] == [kty]
    assert jwks["keys"][0]["kid"] == kid(result.access_token)
    assert "d" not in jwks["keys"][0]
    # Another service verifies with the public key from jwks/ alone.
    public = jwt.PyJWK(jwks["keys"][0], algorithm=algorithm)
    claims = jwt.decode(
        result.access_token,
        public,
        algorithms=[algorithm],
        audience="api",
        issuer="https://auth.example.com",
    )
    assert claims["sub"] == str(user.pk)


def test_hs256_signed_with_the_public_key_is_refused(
    api: APIClient, user: Any, settings: Any
) -> None:
    settings.REFRESHAUTH = {"ALGORITHM": "RS256", "ACCESS_TOKEN_PRIVATE_KEY": pem(RSA_KEY)}
    real = sessions.open_session(user).access_token
    header = {**tokens._read_header(real), "alg": "HS256"}
    head, payload, _ = real.split(".")
    head = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    mac = hmac.new(public_pem(RSA_KEY), f"{head}.{payload}".encode(), hashlib.sha256).digest()
    forged = f"{head}.{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    response = me(api, forged)
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_private_key_rotation(api: APIClient, user: Any, settings: Any) -> None:
    settings.REFRESHAUTH = {"ALGORITHM": "RS256", "ACCESS_TOKEN_PRIVATE_KEY": pem(RSA_KEY)}
    old = sessions.open_session(user)
    settings.REFRESHAUTH = {
        "ALGORITHM": "RS256",
        "ACCESS_TOKEN_PRIVATE_KEY": pem(RSA_KEY_2),
        "ACCESS_TOKEN_PRIVATE_KEY_FALLBACKS": [pem(RSA_KEY)],
    }
    assert me(api, old.access_token).status_code == 200
    new = sessions.rotate(old.refresh_token)
    assert kid(new.access_token) != kid(old.access_token)
    keys = api.get("/api/auth/jwks/").json()["keys"]
    assert [k["kid"] for k in keys] == [kid(new.access_token), kid(old.access_token)]
    settings.REFRESHAUTH = {"ALGORITHM": "RS256", "ACCESS_TOKEN_PRIVATE_KEY": pem(RSA_KEY_2)}
    assert me(api, old.access_token).status_code == 401


def test_derived_secrets_are_as_long_as_the_algorithm_needs(settings: Any) -> None:
    for algorithm, size in tokens.HMAC_KEY_BYTES.items():
        settings.REFRESHAUTH = {"ALGORITHM": algorithm}
        assert len(tokens.access_keys().current.signing) == size
        assert len(tokens.refresh_keys().current.signing) == size
        assert tokens.access_keys().current.signing != tokens.refresh_keys().current.signing
