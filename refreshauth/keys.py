"""refreshauth's keys: the key that signs each kind of token and the keys that still
verify (rotation with fallbacks), derived from Django's ``SECRET_KEY`` or configured,
HMAC or asymmetric, with the public ones served at ``jwks/``. Built once per
configuration."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac
from jwt.algorithms import Algorithm, get_default_algorithms

from .conf import settings

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "HMAC_ALGORITHMS",
    "HMAC_KEY_BYTES",
    "SUPPORTED_ALGORITHMS",
    "KeyRing",
    "SigningKey",
    "access_keys",
    "as_bytes",
    "asymmetric_key",
    "derive_secret",
    "hmac_kid",
    "refresh_algorithm",
    "refresh_keys",
]

HMAC_ALGORITHMS = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
HMAC_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
SUPPORTED_ALGORITHMS = frozenset(HMAC_ALGORITHMS) | ASYMMETRIC_ALGORITHMS


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


def as_bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def hmac_kid(key: bytes) -> str:
    """A key id that names an HMAC key without revealing anything usable about it."""
    return hmac.new(key, b"refreshauth.kid", hashlib.sha256).hexdigest()[:16]


def _hmac_key(key: bytes, algorithm: str) -> SigningKey:
    return SigningKey(
        hmac_kid(key), algorithm, key, get_default_algorithms()[algorithm].prepare_key(key)
    )


def asymmetric_key(pem: str | bytes, algorithm: str) -> SigningKey:
    alg = get_default_algorithms()[algorithm]
    private = alg.prepare_key(as_bytes(pem))
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
            fallback_keys = [as_bytes(k) for k in fallbacks]
    else:
        current = as_bytes(secret)
        fallback_keys = [as_bytes(k) for k in fallbacks or ()]
    return _ring([_hmac_key(k, algorithm) for k in [current, *fallback_keys]])


@functools.lru_cache(maxsize=16)
def _asymmetric_ring(
    algorithm: str, private_key: str | bytes, fallbacks: tuple[str | bytes, ...]
) -> KeyRing:
    return _ring([asymmetric_key(k, algorithm) for k in [private_key, *fallbacks]])


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
