"""The codec of refreshauth's JWTs, with PyJWT: encoding, and decoding by the strict
rules of SPEC section 2 (one spelling per token, exact claims). Pure: no database, no
HTTP. The keys are ``refreshauth.keys``'."""

from __future__ import annotations

import base64
import binascii
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

from .conf import settings
from .exceptions import ExpiredToken, InvalidToken
from .keys import ASYMMETRIC_ALGORITHMS as ASYMMETRIC_ALGORITHMS
from .keys import HMAC_ALGORITHMS as HMAC_ALGORITHMS
from .keys import HMAC_KEY_BYTES as HMAC_KEY_BYTES
from .keys import SUPPORTED_ALGORITHMS as SUPPORTED_ALGORITHMS
from .keys import KeyRing as KeyRing
from .keys import SigningKey as SigningKey
from .keys import access_keys as access_keys
from .keys import refresh_algorithm as refresh_algorithm
from .keys import refresh_keys as refresh_keys

ACCESS_TYPES = frozenset({"at+jwt", "application/at+jwt"})
REFRESH_TYPES = frozenset({"rt+jwt", "application/rt+jwt"})
ACCESS_TYP = "at+jwt"
REFRESH_TYP = "rt+jwt"

# The only header parameters refreshauth writes; anything else (crit, jku, x5u, jwk, ...)
# is refused rather than interpreted.
ALLOWED_HEADER_KEYS = frozenset({"alg", "typ", "kid"})
REGISTERED_CLAIMS = frozenset({"sub", "iat", "exp", "nbf", "jti", "sid", "iss", "aud", "cnf"})
MAX_TOKEN_LENGTH = 4096


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
