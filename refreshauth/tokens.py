"""Encoding and decoding of refreshauth's JWTs with PyJWT. Pure: no database, no HTTP."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac
from jwt.algorithms import Algorithm, get_default_algorithms

from .conf import settings
from .exceptions import ExpiredToken, InvalidToken

HMAC_ALGORITHMS = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
HMAC_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
SUPPORTED_ALGORITHMS = frozenset(HMAC_ALGORITHMS) | ASYMMETRIC_ALGORITHMS

ACCESS_TYPES = frozenset({"at+jwt", "application/at+jwt"})
REFRESH_TYPES = frozenset({"rt+jwt", "application/rt+jwt"})
ACCESS_TYP = "at+jwt"
REFRESH_TYP = "rt+jwt"

# The only header parameters refreshauth writes; anything else (crit, jku, x5u, jwk, ...)
# is refused rather than interpreted.
ALLOWED_HEADER_KEYS = frozenset({"alg", "typ", "kid"})
REGISTERED_CLAIMS = frozenset({"sub", "iat", "exp", "nbf", "jti", "sid", "iss", "aud", "cnf"})
MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    signing: Any  # what PyJWT signs with
    verifying: Any  # what PyJWT verifies with, prepared once
    public_jwk: Mapping[str, Any] | None = None

    @functools.cached_property
    def verifier(self) -> Algorithm:
        """PyJWT's implementation of ``algorithm``, which checks signatures."""
        return get_default_algorithms()[self.algorithm]


@dataclass(frozen=True)
class KeyRing:
    """The key that signs and every key that still verifies, by ``kid``."""

    current: SigningKey
    by_kid: Mapping[str, SigningKey]

    @property
    def algorithm(self) -> str:
        return self.current.algorithm


def refresh_algorithm(algorithm: str | None = None) -> str:
    """Refresh tokens are HMAC: ``ALGORITHM`` when it is one, HS256 otherwise."""
    algorithm = algorithm or settings.ALGORITHM
    return algorithm if algorithm in HMAC_ALGORITHMS else "HS256"


def derive_secret(purpose: str, secret_key: str | bytes, algorithm: str) -> bytes:
    """A key for ``purpose`` derived from a Django secret key, as long as ``algorithm`` needs."""
    return salted_hmac(
        f"refreshauth.tokens.{purpose}",
        "signing-key",
        secret=secret_key,
        algorithm=HMAC_ALGORITHMS[algorithm],
    ).digest()


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def hmac_kid(key: bytes) -> str:
    """A key id that names an HMAC key without revealing anything usable about it."""
    return hmac.new(key, b"refreshauth.kid", hashlib.sha256).hexdigest()[:16]


def _hmac_key(key: bytes, algorithm: str) -> SigningKey:
    return SigningKey(
        hmac_kid(key), algorithm, key, get_default_algorithms()[algorithm].prepare_key(key)
    )


def _asymmetric_key(pem: str | bytes, algorithm: str) -> SigningKey:
    alg = get_default_algorithms()[algorithm]
    private = alg.prepare_key(_as_bytes(pem))
    public = private.public_key()
    jwk = json.loads(alg.to_jwk(public))
    # RFC 7638 thumbprint: SHA-256 of the required members, sorted, without spaces.
    required = {
        "RSA": ("e", "kty", "n"),
        "EC": ("crv", "kty", "x", "y"),
        "OKP": ("crv", "kty", "x"),
    }
    members = {k: jwk[k] for k in required[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    jwk.update({"kid": kid, "alg": algorithm, "use": "sig"})
    return SigningKey(kid, algorithm, private, public, jwk)


def _ring(keys: list[SigningKey]) -> KeyRing:
    by_kid: dict[str, SigningKey] = {}
    for key in keys:
        by_kid.setdefault(key.kid, key)
    return KeyRing(keys[0], by_kid)


@functools.lru_cache(maxsize=16)
def _hmac_ring(
    purpose: str,
    algorithm: str,
    secret: str | bytes | None,
    fallbacks: tuple[str | bytes, ...] | None,
    secret_key: str,
    secret_key_fallbacks: tuple[str, ...],
) -> KeyRing:
    if secret is None:
        current = derive_secret(purpose, secret_key, algorithm)
        if fallbacks is None:
            fallback_keys = [derive_secret(purpose, k, algorithm) for k in secret_key_fallbacks]
        else:
            fallback_keys = [_as_bytes(k) for k in fallbacks]
    else:
        current = _as_bytes(secret)
        fallback_keys = [_as_bytes(k) for k in fallbacks or ()]
    return _ring([_hmac_key(k, algorithm) for k in [current, *fallback_keys]])


@functools.lru_cache(maxsize=16)
def _asymmetric_ring(
    algorithm: str, private_key: str | bytes, fallbacks: tuple[str | bytes, ...]
) -> KeyRing:
    return _ring([_asymmetric_key(k, algorithm) for k in [private_key, *fallbacks]])


def _secret_key_fallbacks() -> tuple[str, ...]:
    return tuple(getattr(django_settings, "SECRET_KEY_FALLBACKS", ()) or ())


def access_keys() -> KeyRing:
    """The key ring of access tokens, built once per configuration."""
    algorithm = settings.ALGORITHM
    if algorithm in ASYMMETRIC_ALGORITHMS:
        private_key = settings.ACCESS_TOKEN_PRIVATE_KEY
        if not private_key:
            raise ImproperlyConfigured(
                f"REFRESHAUTH['ACCESS_TOKEN_PRIVATE_KEY'] is required with ALGORITHM {algorithm}."
            )
        return _asymmetric_ring(
            algorithm, private_key, tuple(settings.ACCESS_TOKEN_PRIVATE_KEY_FALLBACKS or ())
        )
    fallbacks = settings.ACCESS_TOKEN_SECRET_FALLBACKS
    return _hmac_ring(
        "AccessToken",
        algorithm,
        settings.ACCESS_TOKEN_SECRET,
        tuple(fallbacks) if fallbacks is not None else None,
        django_settings.SECRET_KEY,
        _secret_key_fallbacks(),
    )


def refresh_keys() -> KeyRing:
    """The key ring of refresh tokens (always HMAC), built once per configuration."""
    fallbacks = settings.REFRESH_TOKEN_SECRET_FALLBACKS
    return _hmac_ring(
        "RefreshToken",
        refresh_algorithm(),
        settings.REFRESH_TOKEN_SECRET,
        tuple(fallbacks) if fallbacks is not None else None,
        django_settings.SECRET_KEY,
        _secret_key_fallbacks(),
    )


def new_jti() -> str:
    """A fresh, unguessable token id."""
    return secrets.token_urlsafe(24)


def successor_jti(key: SigningKey, sid: str, jti: str) -> str:
    """The ``jti`` of the token that replaces ``jti``: reproducible, so a grace-period
    retry can be answered with the very token the first request got."""
    mac = hmac.new(key.signing, f"{sid}:{jti}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode()


def digest(jti: str) -> str:
    """What the database stores of a token id: its SHA-256, never the id itself."""
    return hashlib.sha256(jti.encode()).hexdigest()


def encode(claims: Mapping[str, Any], key: SigningKey, typ: str) -> str:
    return jwt.encode(
        dict(claims), key.signing, key.algorithm, headers={"typ": typ, "kid": key.kid}
    )


def _b64decode(segment: str) -> bytes:
    """The bytes of a canonical base64url segment: one spelling only, so a segment whose
    unused low bits differ (the same bytes to a lenient decoder) is refused."""
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=") != segment.encode():
        raise ValueError("not canonical base64url")
    return raw


# Three segments of the base64url alphabet and nothing else: no padding, no spaces, no
# characters that a lenient decoder would skip (and so no two strings for one token).
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def _read_header(token: str) -> dict[str, Any]:
    if (
        not isinstance(token, str)
        or len(token) > MAX_TOKEN_LENGTH
        or not TOKEN_RE.fullmatch(token)
    ):
        raise InvalidToken()
    try:
        header = json.loads(_b64decode(token[: token.index(".")]))
    except (ValueError, binascii.Error):
        raise InvalidToken() from None
    if not isinstance(header, dict) or not header.keys() <= ALLOWED_HEADER_KEYS:
        raise InvalidToken()
    return header


@dataclass(frozen=True)
class Decoded:
    claims: dict[str, Any]
    key: SigningKey


def decode(
    token: str,
    ring: KeyRing,
    types: frozenset[str],
    *,
    verify_exp: bool = True,
    issuer: str | None = None,
    audience: str | list[str] | None = None,
) -> Decoded:
    """Verify ``token`` against ``ring`` and return its claims and the key that signed it.

    Raises ``InvalidToken`` for anything but a well-formed token of one of ``types``,
    signed by the key its ``kid`` names with that key's algorithm, carrying the required
    claims, not issued or valid only in the future, and of the expected ``iss``/``aud``;
    ``ExpiredToken`` past ``exp`` (with ``LEEWAY``). The signature is checked by PyJWT's
    algorithm implementation; the claims here, with the rules of RFC 7519.
    """
    header = _read_header(token)
    typ = header.get("typ")
    kid = header.get("kid")
    if not isinstance(typ, str) or typ.lower() not in types or not isinstance(kid, str):
        raise InvalidToken()
    key = ring.by_kid.get(kid)
    if key is None or header.get("alg") != key.algorithm:
        raise InvalidToken()
    signing_input, _, signature = token.rpartition(".")
    try:
        valid = key.verifier.verify(signing_input.encode(), key.verifying, _b64decode(signature))
    except (ValueError, binascii.Error, jwt.PyJWTError):
        valid = False
    if not valid:
        raise InvalidToken()
    try:
        claims = json.loads(_b64decode(signing_input[signing_input.index(".") + 1 :]))
    except (ValueError, binascii.Error):
        raise InvalidToken() from None
    if not isinstance(claims, dict):
        raise InvalidToken()
    _validate(claims, verify_exp=verify_exp, issuer=issuer, audience=audience)
    return Decoded(claims, key)


def _is_int(value: Any) -> bool:
    return type(value) is int


def _validate(
    claims: dict[str, Any],
    *,
    verify_exp: bool,
    issuer: str | None,
    audience: str | list[str] | None,
) -> None:
    for name in ("sub", "jti", "sid"):
        value = claims.get(name)
        if not isinstance(value, str) or not value:
            raise InvalidToken()
    exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf", 0)
    if not (isinstance(exp, int) and isinstance(iat, int) and isinstance(nbf, int)):
        raise InvalidToken()
    if not (_is_int(exp) and _is_int(iat) and _is_int(nbf)):  # no booleans
        raise InvalidToken()
    now = time.time()
    leeway = settings.LEEWAY.total_seconds()
    if iat > now + leeway or nbf > now + leeway:
        raise InvalidToken()
    if verify_exp and exp <= now - leeway:
        raise ExpiredToken()
    if issuer is not None and claims.get("iss") != issuer:
        raise InvalidToken()
    aud = claims.get("aud")
    if audience is None:
        if aud is not None:
            raise InvalidToken()
        return
    wanted = {audience} if isinstance(audience, str) else set(audience)
    if isinstance(aud, str):
        offered = {aud}
    elif isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud):
        offered = set(aud)
    else:  # a number, an object, an empty list, a list holding a non-string
        raise InvalidToken()
    if not offered & wanted:
        raise InvalidToken()


def decode_access(token: str) -> dict[str, Any]:
    """The verified claims of an access token."""
    return decode(
        token,
        access_keys(),
        ACCESS_TYPES,
        issuer=settings.ISSUER,
        audience=settings.AUDIENCE,
    ).claims


def decode_refresh(token: str, *, verify_exp: bool = True) -> Decoded:
    """The verified claims of a refresh token and the key that signed it."""
    return decode(token, refresh_keys(), REFRESH_TYPES, verify_exp=verify_exp)
