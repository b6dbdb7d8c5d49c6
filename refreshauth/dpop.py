"""DPoP proofs (RFC 9449): one proof checked against one request. Pure: no database, no
HTTP framework, no cache.

``verify_proof`` accepts a proof only when all of this holds: exactly one ``DPoP``
header, of at most ``MAX_PROOF_LENGTH`` characters; one compact JWS whose three segments
are canonical base64url (no padding, no stray low bits) and whose header and claims are
JSON objects without duplicate names; a header ``typ`` of ``dpop+jwt``, an ``alg`` that
is configured, asymmetric and implemented, and a ``jwk`` that is a public key of the
type and curve that ``alg`` needs (RSA of 2048 to 8192 bits, EC on its curve, Ed25519
or Ed448), in the minimal encoding of RFC 7518, with no private member; none of the
header parameters that would name another key or change what is signed (``jku``,
``x5u``, ``x5c``, ``x5t``, ``x5t#S256``, ``crit``, ``b64``, ``zip``, ``enc``); a
signature by that key, checked by PyJWT's algorithm implementations on
``cryptography``; claims ``jti`` (a non-empty string of at most ``MAX_JTI_LENGTH``
characters), ``htm`` equal to the request method, ``htu`` equal to the request URL once
both are normalised by ``normalize_htu``, ``iat`` an integer at most ``max_age +
leeway`` from now in either direction, and ``ath`` as described below. Other claims
are allowed and ignored (``nonce`` among them: refreshauth sends no server nonces).

Choices where RFC 9449 leaves room:

- ``typ`` is read as the media type it is (RFC 7515 §4.1.9): ``dpop+jwt`` or
  ``application/dpop+jwt``, in any letter case, as access tokens' ``typ`` is read.
- ``ath`` is required, and compared in constant time, when the proof comes with an
  access token. A proof that carries ``ath`` where no access token is presented (at
  ``login/`` and ``refresh/``) is refused rather than its ``ath`` ignored: it was made
  to go with an access token, so it is never taken for a proof made to log in or
  refresh.
- ``iat`` must be an integer: a fractional NumericDate, a string or a boolean is refused.
- A header ``kid`` (which some clients add beside ``jwk``) is ignored: the key is the
  ``jwk``, and a proof without one is refused.

Left to the caller: deciding when a proof is required; accepting each proof once (add
``Proof.jti``, best keyed with ``Proof.jkt``, to a replay cache for ``Proof.replay_ttl``
seconds, and refuse the proof when it was already there); comparing ``Proof.jkt`` with
the thumbprint the session or the access token's ``cnf.jkt`` is bound to; and building
``url`` from the request as the server sees it (``request.build_absolute_uri(
request.path)``, which follows ``SECURE_PROXY_SSL_HEADER`` and ``USE_X_FORWARDED_HOST``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn
from urllib.parse import quote, urlsplit

import jwt
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from jwt.algorithms import get_default_algorithms

from .exceptions import InvalidDPoPProof

# What building a key from a JWK or checking a signature may raise for a bad key.
_KEY_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, jwt.PyJWTError)
try:
    from cryptography.exceptions import UnsupportedAlgorithm
except ImportError:  # without cryptography, no proof algorithm is implemented
    pass
else:
    _KEY_ERRORS += (UnsupportedAlgorithm,)

DEFAULT_ALGORITHMS = ("ES256", "EdDSA", "RS256", "PS256")

# Each algorithm refreshauth accepts for proofs, with the key type and curves it needs.
# HMAC and "none" are absent on purpose: a proof must be signed by a key only the client
# holds, and the verifier learns that key from the proof itself.
_RSA: tuple[str, frozenset[str]] = ("RSA", frozenset())
ALGORITHM_KEYS: Mapping[str, tuple[str, frozenset[str]]] = {
    "RS256": _RSA,
    "RS384": _RSA,
    "RS512": _RSA,
    "PS256": _RSA,
    "PS384": _RSA,
    "PS512": _RSA,
    "ES256": ("EC", frozenset({"P-256"})),
    "ES384": ("EC", frozenset({"P-384"})),
    "ES512": ("EC", frozenset({"P-521"})),
    "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"})),
}
SUPPORTED_ALGORITHMS = frozenset(ALGORITHM_KEYS)

# Octets of an EC coordinate or an OKP public key, per curve (RFC 7518 §6.2.1, RFC 8037).
_KEY_OCTETS = {"P-256": 32, "P-384": 48, "P-521": 66, "Ed25519": 32, "Ed448": 57}
RSA_MIN_BITS = 2048
RSA_MAX_BITS = 8192
# FIPS 186-5 §A.1.1: 2**16 < e < 2**256, odd.
_RSA_MIN_EXPONENT = 2**16 + 1
_RSA_MAX_EXPONENT_BITS = 256

# RFC 7638 §3.2: the members a thumbprint is computed over, per key type.
THUMBPRINT_MEMBERS: Mapping[str, tuple[str, ...]] = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
FORBIDDEN_HEADER_PARAMETERS = frozenset(
    {"jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "b64", "zip", "enc"}
)
DPOP_TYPES = frozenset({"dpop+jwt", "application/dpop+jwt"})

# An RSA 8192 proof is under 4 KB; the limit keeps every later step small and cheap.
MAX_PROOF_LENGTH = 8192
MAX_JTI_LENGTH = 256

_B64_RE = re.compile(r"[A-Za-z0-9_-]+")
_JWS_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT_RE = re.compile(r"%([0-9A-Fa-f]{2})")
# What RFC 3986 allows in a path as it is; anything else gets percent-encoded (as UTF-8).
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"

_ONE = _("Exactly one DPoP header is required.")
_MALFORMED = _("The DPoP proof is not a well-formed JWS.")
_TYPE = _("The DPoP proof's typ must be dpop+jwt.")
_ALGORITHM = _("The DPoP proof's algorithm is not accepted.")
_HEADER = _("The DPoP proof's header has a parameter that is not accepted.")
_KEY = _("The DPoP proof's jwk is not an acceptable public key.")
_CLAIMS = _("The DPoP proof lacks jti, htm, htu or iat, or one of them has the wrong type.")
_TIME = _("The DPoP proof was issued too long ago or in the future.")
_REQUEST = _("The DPoP proof was made for another method or URL.")
_ATH = _("The DPoP proof's ath does not match the access token sent with it.")
_SIGNATURE = _("The DPoP proof's signature is invalid.")


@dataclass(frozen=True)
class Proof:
    """A verified proof: its key's RFC 7638 thumbprint, its ``jti`` and ``iat``, and how
    long a replay cache must remember the ``jti`` (until ``expires_at``, a Unix time,
    that is ``replay_ttl`` seconds after the verification)."""

    jkt: str
    jti: str
    iat: int
    expires_at: int
    replay_ttl: int


def _refuse(message: Promise) -> NoReturn:
    raise InvalidDPoPProof(str(message))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(segment: str) -> bytes:
    """Decode canonical base64url only: one spelling per value, so nothing a lenient
    decoder would ignore (padding, other characters, low bits past the last octet)."""
    if not _B64_RE.fullmatch(segment):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if _b64encode(data) != segment:
        raise ValueError("not canonical base64url")
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _segment(segment: str) -> bytes:
    try:
        return _b64decode(segment)
    except ValueError:
        _refuse(_MALFORMED)


def _json_object(segment: str) -> dict[str, Any]:
    data = _segment(segment)
    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
        )
    except (ValueError, RecursionError):  # RecursionError: nesting too deep
        value = None
    if not isinstance(value, dict):
        _refuse(_MALFORMED)
    return value


def ath_of(access_token: str) -> str:
    """The ``ath`` of a proof presented with ``access_token``: base64url, without
    padding, of the SHA-256 of its ASCII octets (RFC 9449 §4.2)."""
    return _b64encode(hashlib.sha256(access_token.encode()).digest())


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of an RSA, EC or OKP ``jwk``, base64url without
    padding; ``ValueError`` for another key type or a missing member."""
    kty = jwk.get("kty")
    members = THUMBPRINT_MEMBERS.get(kty) if isinstance(kty, str) else None
    if members is None:
        raise ValueError("unsupported key type")
    required = {name: jwk.get(name) for name in members}
    if not all(isinstance(value, str) for value in required.values()):
        raise ValueError("missing key member")
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return _b64encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def _normalize_percent(match: re.Match[str]) -> str:
    char = chr(int(match[1], 16))
    return char if char in _UNRESERVED else f"%{match[1].upper()}"


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 §5.2.4.
    output: list[str] = []
    while path:
        if path.startswith("../"):
            path = path[3:]
        elif path.startswith("./"):
            path = path[2:]
        elif path.startswith("/./"):
            path = path[2:]
        elif path == "/.":
            path = "/"
        elif path.startswith("/../"):
            path = path[3:]
            if output:
                output.pop()
        elif path == "/..":
            path = "/"
            if output:
                output.pop()
        elif path in (".", ".."):
            path = ""
        else:
            end = path.find("/", 1)
            end = len(path) if end == -1 else end
            output.append(path[:end])
            path = path[end:]
    return "".join(output)


def normalize_htu(url: str) -> str:
    """``url`` without query and fragment, normalised as RFC 3986 §6.2.2 and §6.2.3 say:
    scheme and host in lower case, the scheme's default port dropped, percent-encoding
    in upper case and decoded where it stands for an unreserved character, dot segments
    removed, an empty path as ``/``.

    ``ValueError`` for anything but an absolute ``http`` or ``https`` URL with a host and
    no user information, or for one with spaces or control characters.
    """
    if any(char <= " " or char == "\x7f" for char in url):
        raise ValueError("a URL has no spaces or control characters")
    parts = urlsplit(url)  # ValueError for a malformed IPv6 literal
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or "@" in parts.netloc:
        raise ValueError("not an http(s) URL without user information")
    netloc = parts.netloc
    if netloc.startswith("["):
        host, _bracket, rest = netloc.partition("]")
        host += "]"
        if rest and not rest.startswith(":"):
            raise ValueError("malformed host")
        port = rest[1:]
    else:
        host, _colon, port = netloc.partition(":")
    host = host.lower()
    if not host or host == "[]":
        raise ValueError("no host")
    if port and not (port.isascii() and port.isdigit()):
        raise ValueError("malformed port")
    authority = host
    if port and int(port) != _DEFAULT_PORTS[scheme]:
        authority = f"{host}:{int(port)}"
    path = _PERCENT_RE.sub(_normalize_percent, quote(parts.path, safe=_PATH_SAFE))
    path = _remove_dot_segments(path) or "/"
    return f"{scheme}://{authority}{path}"


def usable_algorithms(algorithms: Iterable[str]) -> tuple[str, ...]:
    """The algorithms of ``algorithms`` that a proof may use: asymmetric ones that
    refreshauth supports and PyJWT implements (those of RSA and EC need
    ``cryptography``), in their given order, whatever else is configured."""
    if isinstance(algorithms, str):
        algorithms = (algorithms,)
    implemented = get_default_algorithms()
    return tuple(
        dict.fromkeys(a for a in algorithms if a in SUPPORTED_ALGORITHMS and a in implemented)
    )


def _single(headers: Sequence[str] | str | None) -> str:
    if headers is None:
        _refuse(_ONE)
    values = [headers] if isinstance(headers, str) else list(headers)
    if len(values) != 1:
        _refuse(_ONE)
    value = values[0]
    if not isinstance(value, str) or len(value) > MAX_PROOF_LENGTH:
        _refuse(_MALFORMED)
    if "," in value:  # repeated headers, as a WSGI server joins them
        _refuse(_ONE)
    if not _JWS_RE.fullmatch(value):
        _refuse(_MALFORMED)
    return value


def _key_octets(value: Any) -> bytes:
    if isinstance(value, str):
        try:
            return _b64decode(value)
        except ValueError:
            pass
    _refuse(_KEY)


def _uint(value: Any) -> int:
    """A Base64urlUInt (RFC 7518 §2): canonical base64url of the minimal octets."""
    data = _key_octets(value)
    if not data or data[0] == 0:
        _refuse(_KEY)
    return int.from_bytes(data, "big")


def _octets(value: Any, size: int) -> str:
    if len(_key_octets(value)) != size:
        _refuse(_KEY)
    return str(value)


def _public_members(jwk: Any, alg: str) -> dict[str, str]:
    """The members of ``jwk`` that make the public key, checked for ``alg`` before any
    key is built: size and encoding limits first, so an oversized key costs nothing."""
    if not isinstance(jwk, dict) or jwk.keys() & PRIVATE_MEMBERS:
        _refuse(_KEY)
    kty, curves = ALGORITHM_KEYS[alg]
    if jwk.get("kty") != kty or jwk.get("alg", alg) != alg:
        _refuse(_KEY)
    if kty == "RSA":
        n, e = _uint(jwk.get("n")), _uint(jwk.get("e"))
        if not RSA_MIN_BITS <= n.bit_length() <= RSA_MAX_BITS:
            _refuse(_KEY)
        if e < _RSA_MIN_EXPONENT or e.bit_length() > _RSA_MAX_EXPONENT_BITS or e % 2 == 0:
            _refuse(_KEY)
        return {"kty": kty, "n": jwk["n"], "e": jwk["e"]}
    crv = jwk.get("crv")
    if crv not in curves:
        _refuse(_KEY)
    size = _KEY_OCTETS[crv]
    members = {"kty": kty, "crv": crv, "x": _octets(jwk.get("x"), size)}
    if kty == "EC":
        members["y"] = _octets(jwk.get("y"), size)
    return members


def _claims(
    claims: dict[str, Any],
    *,
    method: str,
    url: str,
    window: float,
    now: float,
    access_token: str | None,
) -> tuple[str, int]:
    jti, htm, htu, iat = (claims.get(name) for name in ("jti", "htm", "htu", "iat"))
    if (
        not isinstance(jti, str)
        or not 0 < len(jti) <= MAX_JTI_LENGTH
        or not isinstance(htm, str)
        or not isinstance(htu, str)
        or type(iat) is not int  # neither a bool nor a fraction
    ):
        _refuse(_CLAIMS)
    if not now - window <= iat <= now + window:  # exact, whatever the size of iat
        _refuse(_TIME)
    if htm != method:
        _refuse(_REQUEST)
    try:
        same_url = normalize_htu(htu) == normalize_htu(url)
    except ValueError:
        same_url = False
    if not same_url:
        _refuse(_REQUEST)
    ath = claims.get("ath")
    if access_token is None:
        if "ath" in claims:
            _refuse(_ATH)
    elif not isinstance(ath, str) or not hmac.compare_digest(
        ath.encode(), ath_of(access_token).encode()
    ):
        _refuse(_ATH)
    return jti, iat


def verify_proof(
    headers: Sequence[str] | str | None,
    *,
    method: str,
    url: str,
    algorithms: Iterable[str],
    max_age: timedelta,
    leeway: timedelta,
    now: float | None = None,
    access_token: str | None = None,
) -> Proof:
    """Verify the proof in ``headers`` (every value of the request's ``DPoP`` header; a
    single string is one value, ``None`` none) for a ``method`` request to ``url``,
    presented with ``access_token`` if given.

    Returns the verified ``Proof``; raises ``InvalidDPoPProof`` for anything else, as
    the module's docstring details. ``now`` is a Unix time, the current one by default.
    """
    proof = _single(headers)
    header_segment, claims_segment, signature_segment = proof.split(".")
    header = _json_object(header_segment)
    claims = _json_object(claims_segment)
    signature = _segment(signature_segment)

    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in DPOP_TYPES:
        _refuse(_TYPE)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in usable_algorithms(algorithms):
        _refuse(_ALGORITHM)
    if header.keys() & FORBIDDEN_HEADER_PARAMETERS:
        _refuse(_HEADER)
    members = _public_members(header.get("jwk"), alg)

    # The claims are checked before the signature only because they are cheap: every
    # check must pass, so their order decides nothing but the cost of a bad proof.
    now = time.time() if now is None else now
    window = max_age.total_seconds() + leeway.total_seconds()
    jti, iat = _claims(
        claims, method=method, url=url, window=window, now=now, access_token=access_token
    )

    implementation = get_default_algorithms()[alg]
    try:
        # cryptography refuses here an EC point off its curve and a malformed RSA key.
        key = implementation.prepare_key(implementation.from_jwk(members))
    except _KEY_ERRORS:
        key = None
    if key is None:
        _refuse(_KEY)
    signing_input = f"{header_segment}.{claims_segment}".encode("ascii")
    try:
        valid = implementation.verify(signing_input, key, signature)
    except _KEY_ERRORS:
        valid = False
    if not valid:
        _refuse(_SIGNATURE)

    expires_at = iat + window
    return Proof(
        jkt=thumbprint(members),
        jti=jti,
        iat=iat,
        expires_at=math.ceil(expires_at),
        replay_ttl=max(1, math.ceil(expires_at - now)),
    )
