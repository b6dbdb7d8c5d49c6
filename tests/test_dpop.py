"""DPoP proof verification (refreshauth.dpop): real proofs pass, every attack is refused."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm, get_default_algorithms

from refreshauth import dpop
from refreshauth.dpop import ath_of, normalize_htu, thumbprint, usable_algorithms, verify_proof
from refreshauth.exceptions import InvalidDPoPProof

NOW = 1_700_000_000
URL = "https://api.example.com/api/auth/refresh/"
MAX_AGE = timedelta(seconds=60)
ACCESS_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
MISSING = object()

EC_KEY = ec.generate_private_key(ec.SECP256R1())
EC_KEY_2 = ec.generate_private_key(ec.SECP256R1())
P384_KEY = ec.generate_private_key(ec.SECP384R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()
ED448_KEY = ed448.Ed448PrivateKey.generate()
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_1024 = rsa.generate_private_key(public_exponent=65537, key_size=1024)

# RFC 7638 §3.1's example key and thumbprint.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJ"
    "ECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2"
    "QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQ"
    "Fh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(value: int) -> str:
    return b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def public_jwk(key: Any) -> dict[str, Any]:
    """The public JWK of a private key, as PyJWT writes it (extra members included)."""
    if isinstance(key, rsa.RSAPrivateKey):
        alg = get_default_algorithms()["RS256"]
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        alg = get_default_algorithms()["ES256"]
    else:
        alg = get_default_algorithms()["EdDSA"]
    return dict(alg.to_jwk(key.public_key(), as_dict=True))


def sign_raw(header: str, claims: str, key: Any, alg: str) -> str:
    signing_input = f"{b64(header.encode())}.{b64(claims.encode())}"
    signature = get_default_algorithms()[alg].sign(signing_input.encode(), key)
    return f"{signing_input}.{b64(signature)}"


def make_proof(
    key: Any = EC_KEY,
    alg: str = "ES256",
    *,
    jwk: Any = MISSING,
    header: dict[str, Any] | None = None,
    signer: Any = None,
    **claims: Any,
) -> str:
    """A proof of ``POST URL`` issued at ``NOW``, signed by ``signer`` (``key`` by default)
    with ``key``'s public JWK in its header; keyword arguments replace claims, and
    ``MISSING`` removes a claim or header parameter."""
    full_header: dict[str, Any] = {
        "typ": "dpop+jwt",
        "alg": alg,
        "jwk": public_jwk(key) if jwk is MISSING else jwk,
    }
    full_header.update(header or {})
    full_claims: dict[str, Any] = {"jti": "proof-1", "htm": "POST", "htu": URL, "iat": NOW}
    full_claims.update(claims)
    full_header = {k: v for k, v in full_header.items() if v is not MISSING}
    full_claims = {k: v for k, v in full_claims.items() if v is not MISSING}
    return sign_raw(json.dumps(full_header), json.dumps(full_claims), signer or key, alg)


def verify(proof: Any, **kwargs: Any) -> dpop.Proof:
    options: dict[str, Any] = {
        "method": "POST",
        "url": URL,
        "algorithms": dpop.DEFAULT_ALGORITHMS,
        "max_age": MAX_AGE,
        "leeway": timedelta(0),
        "now": NOW,
    }
    options.update(kwargs)
    return verify_proof([proof] if isinstance(proof, str) else proof, **options)


def refused(proof: Any, because: Any = None, **kwargs: Any) -> InvalidDPoPProof:
    """Assert that ``proof`` is refused, for the reason ``because`` (one of the module's
    messages) when given."""
    with pytest.raises(InvalidDPoPProof) as info:
        verify(proof, **kwargs)
    assert info.value.code == "invalid_dpop_proof"
    if because is not None:
        assert info.value.detail == str(because)
    return info.value


@pytest.fixture
def keys_built(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The JWKs that reach the building of a key (PyJWT's ``from_jwk``)."""
    built: list[dict[str, Any]] = []
    for implementation in (RSAAlgorithm, ECAlgorithm, OKPAlgorithm):

        def spy(jwk: Any, original: Any = implementation.from_jwk) -> Any:
            built.append(jwk)
            return original(jwk)

        monkeypatch.setattr(implementation, "from_jwk", staticmethod(spy))
    return built


def expected_thumbprint(key: Any) -> str:
    """RFC 7638, written out by hand for each key type rather than with dpop.thumbprint."""
    jwk = public_jwk(key)
    if jwk["kty"] == "RSA":
        canonical = f'{{"e":"{jwk["e"]}","kty":"RSA","n":"{jwk["n"]}"}}'
    elif jwk["kty"] == "EC":
        canonical = f'{{"crv":"{jwk["crv"]}","kty":"EC","x":"{jwk["x"]}","y":"{jwk["y"]}"}}'
    else:
        canonical = f'{{"crv":"{jwk["crv"]}","kty":"OKP","x":"{jwk["x"]}"}}'
    return b64(hashlib.sha256(canonical.encode()).digest())


# Valid proofs


@pytest.mark.parametrize(
    ("key", "alg"),
    [
        (EC_KEY, "ES256"),
        (ED_KEY, "EdDSA"),
        (ED448_KEY, "EdDSA"),
        (RSA_KEY, "PS256"),
        (RSA_KEY, "RS256"),
    ],
)
def test_a_valid_proof_passes_with_its_key_thumbprint(key: Any, alg: str) -> None:
    proof = verify(make_proof(key, alg))
    assert proof.jkt == expected_thumbprint(key)
    assert proof.jti == "proof-1"
    assert proof.iat == NOW
    assert proof.expires_at == NOW + 60
    assert proof.replay_ttl == 60


def test_the_replay_ttl_covers_the_rest_of_the_proof_life() -> None:
    proof = verify(make_proof(iat=NOW + 30), leeway=timedelta(seconds=5))
    # Issued 30 s ahead: it stays acceptable until iat + 65, 95 s from now.
    assert proof.expires_at == NOW + 95
    assert proof.replay_ttl == 95
    assert verify(make_proof(iat=NOW - 60)).replay_ttl == 1


def test_a_proof_is_frozen() -> None:
    proof = verify(make_proof())
    with pytest.raises(dataclasses.FrozenInstanceError):
        proof.jkt = "other"  # type: ignore[misc]


def test_a_single_string_is_one_header() -> None:
    proof = verify_proof(
        make_proof(),
        method="POST",
        url=URL,
        algorithms=["ES256"],
        max_age=MAX_AGE,
        leeway=timedelta(0),
        now=NOW,
    )
    assert proof.jti == "proof-1"


def test_unknown_claims_and_jwk_members_and_a_header_kid_are_allowed() -> None:
    jwk = {**public_jwk(EC_KEY), "ext": True, "key_ops": ["verify"], "alg": "ES256"}
    proof = make_proof(jwk=jwk, header={"kid": "some-key"}, nonce="n", extra={"a": 1})
    assert verify(proof).jkt == expected_thumbprint(EC_KEY)


@pytest.mark.parametrize("typ", ["dpop+jwt", "DPoP+JWT", "application/dpop+jwt"])
def test_typ_is_read_as_a_media_type(typ: str) -> None:
    assert verify(make_proof(header={"typ": typ})).jti == "proof-1"


def test_rfc9449_example_proof() -> None:
    # RFC 9449 §4.1's proof for its token request, made by another implementation; its
    # key's thumbprint is the jkt of the RFC's examples.
    proof = (
        "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0"
        "VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10"
        "NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoi"
        "UE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-"
        "GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg"
    )
    url = "https://server.example.com/token"
    verified = verify(proof, url=url, now=1562262616)
    assert verified.jkt == "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
    assert verified.jti == "-BwC3ESc6acc2lTc"
    refused(proof, url=url, now=1562262616 + 61)
    refused(proof, url="https://server.example.com/resource", now=1562262616)


# Thumbprints and helpers


def test_rfc7638_example_thumbprint() -> None:
    jwk = {"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_rfc8037_example_thumbprint() -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@pytest.mark.parametrize(
    "jwk", [{"kty": "oct", "k": "c2VjcmV0"}, {"kty": "RSA", "n": RFC7638_N}, {"kty": 1}, {}]
)
def test_thumbprint_of_an_unsupported_or_incomplete_key(jwk: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        thumbprint(jwk)


def test_ath_of_rfc9449_example() -> None:
    token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
    assert ath_of(token) == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"


def test_usable_algorithms_are_the_asymmetric_supported_ones() -> None:
    configured = ["HS256", "none", "ES256", "RS256", "XYZ", "ES256", "EdDSA"]
    assert usable_algorithms(configured) == ("ES256", "RS256", "EdDSA")
    assert usable_algorithms("PS256") == ("PS256",)


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("HTTPS://Example.COM:443/a", "https://example.com/a"),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:", "http://example.com/"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com:0443/a", "https://example.com/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com/a?x=1#frag", "https://example.com/a"),
        ("https://example.com/a#frag", "https://example.com/a"),
        ("https://example.com/%7euser/%2f%c3%A9", "https://example.com/~user/%2F%C3%A9"),
        ("https://example.com/caf\u00e9", "https://example.com/caf%C3%A9"),
        ("https://example.com/a/./b/../c/", "https://example.com/a/c/"),
        ("https://example.com/A/B", "https://example.com/A/B"),
        ("https://[::1]:443/x", "https://[::1]/x"),
        ("https://[FE80::1]:8000/x", "https://[fe80::1]:8000/x"),
    ],
)
def test_normalize_htu(url: str, normal: str) -> None:
    assert normalize_htu(url) == normal


@pytest.mark.parametrize(
    "url",
    [
        "/api/auth/refresh/",
        "example.com/a",
        "ftp://example.com/a",
        "https:///a",
        "https://user:pass@example.com/a",
        "https://user@example.com/a",
        "https://example.com:https/a",
        "https://example.com:1:2/a",
        "https://[::1/a",
        "https://example.com/a b",
        "https://example.com/a\n",
        " https://example.com/a",
    ],
)
def test_normalize_htu_refuses_what_is_no_absolute_http_url(url: str) -> None:
    with pytest.raises(ValueError):
        normalize_htu(url)


# htm and htu


@pytest.mark.parametrize("htm", ["GET", "post", "POST ", "", 1, None, MISSING])
def test_wrong_htm(htm: Any) -> None:
    refused(make_proof(htm=htm))


@pytest.mark.parametrize(
    "htu",
    [
        "https://evil.example.com/api/auth/refresh/",
        "https://api.example.com/api/auth/login/",
        "https://api.example.com/api/auth/refresh",
        "http://api.example.com/api/auth/refresh/",
        "https://api.example.com:8443/api/auth/refresh/",
        "https://user@api.example.com/api/auth/refresh/",
        "/api/auth/refresh/",
        "",
        ["https://api.example.com/api/auth/refresh/"],
        None,
        MISSING,
    ],
)
def test_wrong_htu(htu: Any) -> None:
    refused(make_proof(htu=htu))


@pytest.mark.parametrize(
    "htu",
    [
        "HTTPS://API.Example.COM:443/api/auth/refresh/",
        "https://api.example.com/api/auth/refresh/?grant_type=refresh_token#x",
        "https://api.example.com/api/auth/./%72efresh/",
    ],
)
def test_equivalent_htu_spellings_pass(htu: str) -> None:
    assert verify(make_proof(htu=htu)).jti == "proof-1"


def test_the_server_url_is_normalised_too() -> None:
    proof = make_proof(htu="https://example.com/a")
    assert verify(proof, url="HTTPS://Example.COM:443/a").jti == "proof-1"
    refused(proof, url="https://example.com/b")
    refused(proof, url="not a url")


# iat and jti


@pytest.mark.parametrize("iat", [NOW - 61, NOW + 61, NOW - 3600, 0, 10**400, -(10**400)])
def test_stale_or_future_iat(iat: int) -> None:
    refused(make_proof(iat=iat))


@pytest.mark.parametrize("iat", [NOW - 60, NOW + 60])
def test_iat_at_the_edges_of_max_age(iat: int) -> None:
    assert verify(make_proof(iat=iat)).iat == iat


def test_leeway_widens_the_iat_window() -> None:
    leeway = timedelta(seconds=5)
    assert verify(make_proof(iat=NOW - 65), leeway=leeway).iat == NOW - 65
    assert verify(make_proof(iat=NOW + 65), leeway=leeway).iat == NOW + 65
    refused(make_proof(iat=NOW - 66), leeway=leeway)
    refused(make_proof(iat=NOW + 66), leeway=leeway)


@pytest.mark.parametrize("iat", [str(NOW), float(NOW), NOW + 0.5, True, False, None, MISSING])
def test_iat_of_the_wrong_type(iat: Any) -> None:
    refused(make_proof(iat=iat), now=1)  # now=1: True and False would be on time


def test_now_defaults_to_the_clock() -> None:
    options: dict[str, Any] = {
        "method": "POST",
        "url": URL,
        "algorithms": ["ES256"],
        "max_age": MAX_AGE,
        "leeway": timedelta(0),
    }
    assert verify_proof([make_proof(iat=int(time.time()))], **options).jti == "proof-1"
    with pytest.raises(InvalidDPoPProof):
        verify_proof([make_proof(iat=NOW)], **options)


@pytest.mark.parametrize("jti", [MISSING, None, 123, "", "x" * 257, ["proof-1"]])
def test_missing_or_malformed_jti(jti: Any) -> None:
    refused(make_proof(jti=jti))


def test_jti_of_the_maximum_length_passes() -> None:
    assert verify(make_proof(jti="x" * 256)).jti == "x" * 256


# ath


def test_ath_matching_the_access_token_passes() -> None:
    proof = make_proof(ath=ath_of(ACCESS_TOKEN))
    assert verify(proof, access_token=ACCESS_TOKEN).jti == "proof-1"


@pytest.mark.parametrize(
    "ath",
    [MISSING, ath_of(ACCESS_TOKEN + "x"), ath_of(ACCESS_TOKEN) + "=", "", "\u00e9", None, 1],
)
def test_missing_or_wrong_ath_with_an_access_token(ath: Any) -> None:
    refused(make_proof(ath=ath), access_token=ACCESS_TOKEN)


def test_ath_without_an_access_token_is_refused() -> None:
    # At login/ and refresh/ no access token goes with the proof; one made to go with
    # an access token is not accepted in its place.
    refused(make_proof(ath=ath_of(ACCESS_TOKEN)))


# The header: typ, alg, parameters


@pytest.mark.parametrize(
    "typ", ["JWT", "at+jwt", "dpop", "dpop+jwt ", "application/at+jwt", "", None, 1, MISSING]
)
def test_wrong_or_missing_typ(typ: Any) -> None:
    refused(make_proof(header={"typ": typ}))


def test_alg_none() -> None:
    header = json.dumps({"typ": "dpop+jwt", "alg": "none", "jwk": public_jwk(EC_KEY)})
    claims = json.dumps({"jti": "j", "htm": "POST", "htu": URL, "iat": NOW})
    unsigned = f"{b64(header.encode())}.{b64(claims.encode())}"
    for proof in (f"{unsigned}.", f"{unsigned}.{b64(b'signature')}"):
        refused(proof)
        refused(proof, algorithms=["none", "ES256"])


def test_alg_hmac_with_an_oct_jwk() -> None:
    secret = b"s" * 32
    jwk = {"kty": "oct", "k": b64(secret)}
    proof = make_proof(secret, "HS256", jwk=jwk)
    refused(proof)
    refused(proof, algorithms=["HS256", "ES256"])
    # The same oct key under an asymmetric alg name is refused as a key.
    refused(make_proof(secret, "HS256", jwk=jwk, header={"alg": "ES256"}))


def test_alg_not_configured() -> None:
    refused(make_proof(), algorithms=["EdDSA", "RS256"])
    refused(make_proof(header={"alg": "ES384"}))
    refused(make_proof(header={"alg": MISSING}))


@pytest.mark.parametrize(
    "parameter",
    [
        {"jku": "https://evil.example.com/jwks.json"},
        {"x5u": "https://evil.example.com/cert.pem"},
        {"x5c": ["MIIB"]},
        {"x5t#S256": "abc"},
        {"crit": ["exp"]},
        {"b64": False, "crit": ["b64"]},
        {"b64": False},
        {"zip": "DEF"},
    ],
)
def test_dangerous_header_parameters(parameter: dict[str, Any]) -> None:
    refused(make_proof(header=parameter))


def test_kid_without_jwk() -> None:
    refused(make_proof(header={"jwk": MISSING, "kid": "my-key"}))
    refused(make_proof(header={"jwk": MISSING}))


# The key


@pytest.mark.parametrize("member", sorted(dpop.PRIVATE_MEMBERS))
def test_embedded_private_members(member: Any, keys_built: list[dict[str, Any]]) -> None:
    d = b64(EC_KEY.private_numbers().private_value.to_bytes(32, "big"))
    jwk = {**public_jwk(EC_KEY), member: d}
    refused(make_proof(jwk=jwk), because=dpop._KEY)
    assert keys_built == []


def test_embedded_private_key_of_each_type() -> None:
    ec_jwk = get_default_algorithms()["ES256"].to_jwk(EC_KEY, as_dict=True)
    ed_jwk = get_default_algorithms()["EdDSA"].to_jwk(ED_KEY, as_dict=True)
    rsa_jwk = get_default_algorithms()["RS256"].to_jwk(RSA_KEY, as_dict=True)
    assert "d" in ec_jwk and "d" in ed_jwk and "p" in rsa_jwk
    refused(make_proof(EC_KEY, "ES256", jwk=ec_jwk))
    refused(make_proof(ED_KEY, "EdDSA", jwk=ed_jwk))
    refused(make_proof(RSA_KEY, "PS256", jwk=rsa_jwk))


def test_another_keys_signature() -> None:
    signature = dpop._SIGNATURE
    refused(make_proof(EC_KEY, "ES256", signer=EC_KEY_2), because=signature)
    other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused(make_proof(RSA_KEY, "PS256", signer=other_rsa), because=signature)
    other_ed = ed25519.Ed25519PrivateKey.generate()
    refused(make_proof(ED_KEY, "EdDSA", signer=other_ed), because=signature)


def test_claims_changed_after_signing() -> None:
    header, _claims, signature = make_proof().split(".")
    claims = json.dumps({"jti": "proof-1", "htm": "GET", "htu": URL, "iat": NOW})
    refused(f"{header}.{b64(claims.encode())}.{signature}", dpop._SIGNATURE, method="GET")


def test_a_real_1024_bit_rsa_key() -> None:
    refused(make_proof(RSA_1024, "RS256"), because=dpop._KEY)
    refused(make_proof(RSA_1024, "PS256"), because=dpop._KEY)


@pytest.mark.parametrize("bits", [1024, 2047, 8193, 16384])
def test_rsa_modulus_out_of_bounds_is_refused_before_any_key_is_built(
    bits: int, keys_built: list[dict[str, Any]]
) -> None:
    # A made-up modulus of that size: no key of 16384 bits is ever generated or loaded.
    n = (1 << (bits - 1)) | 1
    refused(make_proof(RSA_KEY, "RS256", jwk={"kty": "RSA", "n": uint(n), "e": "AQAB"}))
    assert keys_built == []


@pytest.mark.parametrize("bits", [2048, 8192])
def test_rsa_modulus_within_bounds_reaches_the_signature_check(
    bits: int, keys_built: list[dict[str, Any]]
) -> None:
    n = (1 << (bits - 1)) | 1
    refused(
        make_proof(RSA_KEY, "RS256", jwk={"kty": "RSA", "n": uint(n), "e": "AQAB"}),
        because=dpop._SIGNATURE,
    )
    assert len(keys_built) == 1


@pytest.mark.parametrize("e", [uint(3), uint(65536), uint(1 << 257 | 1), "AAEAAQ", "AQAB=", 65537])
def test_rsa_exponent_out_of_bounds_or_badly_encoded(
    e: Any, keys_built: list[dict[str, Any]]
) -> None:
    jwk = {**public_jwk(RSA_KEY), "e": e}
    refused(make_proof(RSA_KEY, "PS256", jwk=jwk), because=dpop._KEY)
    assert keys_built == []


def test_rsa_modulus_with_a_leading_zero_octet(keys_built: list[dict[str, Any]]) -> None:
    jwk = public_jwk(RSA_KEY)
    n = base64.urlsafe_b64decode(jwk["n"] + "==")
    refused(make_proof(RSA_KEY, "PS256", jwk={**jwk, "n": b64(b"\0" + n)}), because=dpop._KEY)
    assert keys_built == []


@pytest.mark.parametrize(
    ("key", "alg", "jwk_key"),
    [
        (EC_KEY, "ES256", ED_KEY),
        (EC_KEY, "ES256", RSA_KEY),
        (ED_KEY, "EdDSA", EC_KEY),
        (RSA_KEY, "RS256", EC_KEY),
        (RSA_KEY, "PS256", ED_KEY),
    ],
)
def test_jwk_kty_does_not_match_alg(
    key: Any, alg: str, jwk_key: Any, keys_built: list[dict[str, Any]]
) -> None:
    refused(make_proof(key, alg, jwk=public_jwk(jwk_key)), because=dpop._KEY)
    assert keys_built == []


def test_ec_key_of_another_curve_than_alg_names(keys_built: list[dict[str, Any]]) -> None:
    # ES256 is P-256 with SHA-256; a P-384 key signing with SHA-256 is not ES256.
    refused(make_proof(P384_KEY, "ES256"), because=dpop._KEY)
    refused(make_proof(EC_KEY, "ES256", jwk={**public_jwk(EC_KEY), "crv": "P-384"}))
    assert keys_built == []


def test_jwk_alg_member_that_contradicts_the_header(keys_built: list[dict[str, Any]]) -> None:
    refused(make_proof(jwk={**public_jwk(EC_KEY), "alg": "ES384"}), because=dpop._KEY)
    assert keys_built == []


def test_ec_point_not_on_the_curve(keys_built: list[dict[str, Any]]) -> None:
    jwk = public_jwk(EC_KEY)
    y = int.from_bytes(base64.urlsafe_b64decode(jwk["y"] + "=="), "big") ^ 1
    # cryptography refuses the point as the key is built: the signature is never checked.
    refused(make_proof(jwk={**jwk, "y": b64(y.to_bytes(32, "big"))}), because=dpop._KEY)
    assert len(keys_built) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"x": b64(b"\1" * 31)},
        {"x": b64(b"\1" * 33)},
        {"y": MISSING},
        {"x": 1},
        {"crv": "P-256K"},
        {"crv": MISSING},
        {"kty": MISSING},
    ],
)
def test_ec_jwk_malformed(change: dict[str, Any], keys_built: list[dict[str, Any]]) -> None:
    jwk = {**public_jwk(EC_KEY), **change}
    proof = make_proof(jwk={k: v for k, v in jwk.items() if v is not MISSING})
    refused(proof, because=dpop._KEY)
    assert keys_built == []


@pytest.mark.parametrize("jwk", ["not an object", ["EC"], None, 1])
def test_jwk_not_an_object(jwk: Any) -> None:
    refused(make_proof(jwk=jwk), because=dpop._KEY)


def test_okp_jwk_of_the_wrong_size_or_curve(keys_built: list[dict[str, Any]]) -> None:
    jwk = public_jwk(ED_KEY)
    for change in ({"x": b64(b"\1" * 31)}, {"crv": "X25519"}, {"crv": "Ed448"}):
        refused(make_proof(ED_KEY, "EdDSA", jwk={**jwk, **change}), because=dpop._KEY)
    assert keys_built == []


# Size, count and encoding


def test_a_100_kb_header_is_refused_before_any_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse(segment: str) -> bytes:
        raise AssertionError("parsed")

    proof = make_proof(padding="x" * 100_000)
    assert len(proof) > 100_000
    monkeypatch.setattr(dpop, "_segment", parse)
    refused(proof)
    refused("a" * 100_000)


def test_a_proof_over_the_length_limit() -> None:
    proof = make_proof(padding="x" * dpop.MAX_PROOF_LENGTH)
    refused(proof)
    # The same proof without the padding passes.
    assert verify(make_proof(padding="x")).jti == "proof-1"


def test_two_dpop_headers() -> None:
    one, two = make_proof(), make_proof(jti="proof-2")
    refused([one, two], because=dpop._ONE)
    refused([one, one], because=dpop._ONE)
    # As a WSGI server joins repeated headers:
    refused(f"{one},{two}", because=dpop._ONE)
    refused(f"{one}, {two}", because=dpop._ONE)


@pytest.mark.parametrize("headers", [None, [], (), [None], [b"a.b.c"], [1]])
def test_no_dpop_header_or_not_a_string(headers: Any) -> None:
    refused(headers, because=dpop._ONE if not headers else dpop._MALFORMED)


def test_padding_in_a_segment() -> None:
    header, claims, signature = make_proof().split(".")
    assert len(signature) % 4 == 2  # ES256: 64 octets
    assert verify(f"{header}.{claims}.{signature}").jti == "proof-1"
    refused(f"{header}.{claims}.{signature}==")
    refused(f"{header}=.{claims}.{signature}")


def test_changed_unused_bits_of_the_signature() -> None:
    header, claims, signature = make_proof().split(".")
    # ES256's 64 octets take 86 characters: the last one carries 4 bits that are not used.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet[alphabet.index(signature[-1]) ^ 1]
    changed = signature[:-1] + last
    assert base64.urlsafe_b64decode(changed + "==") == base64.urlsafe_b64decode(signature + "==")
    refused(f"{header}.{claims}.{changed}")


def test_changed_unused_bits_of_the_header_and_claims() -> None:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for padding in ("", "x", "xx"):
        proof = make_proof(padding=padding)
        segments = proof.split(".")
        for index in (0, 1):
            segment = segments[index]
            if len(segment) % 4 in (2, 3):
                last = alphabet[alphabet.index(segment[-1]) ^ 1]
                changed = segment[:-1] + last
                assert base64.urlsafe_b64decode(changed + "==") == base64.urlsafe_b64decode(
                    segment + "=="
                )
                refused(".".join([*segments[:index], changed, *segments[index + 1 :]]))


@pytest.mark.parametrize(
    "shape",
    [
        "{h}.{c}",
        "{h}.{c}.{s}.{s}",
        "{h}.{c}.",
        "{h}..{s}",
        ".{c}.{s}",
        " {h}.{c}.{s}",
        "{h}.{c}.{s}\n",
        "{h}.{c}.{s} ",
        "{h}.{c}.{s}a",
        "Bearer {h}.{c}.{s}",
    ],
)
def test_not_one_compact_jws(shape: str) -> None:
    h, c, s = make_proof().split(".")
    refused(shape.format(h=h, c=c, s=s))


def test_standard_base64_alphabet() -> None:
    h, c, s = make_proof().split(".")
    standard = s.replace("-", "+").replace("_", "/")
    if standard == s:  # pragma: no cover - only when the signature has neither
        standard = s[:-2] + "+/"
    refused(f"{h}.{c}.{standard}")


@pytest.mark.parametrize(
    ("header", "claims"),
    [
        ("not json", None),
        ('["typ", "dpop+jwt"]', None),
        ("null", None),
        ('{"typ": "dpop+jwt", "alg": "EdDSA", "alg": "ES256", "jwk": JWK}', None),
        ('{"typ": "dpop+jwt", "typ": "dpop+jwt", "alg": "ES256", "jwk": JWK}', None),
        (None, "[1]"),
        (None, '"claims"'),
        (None, '{"jti": "a", "jti": "b", "htm": "POST", "htu": "URL", "iat": NOW}'),
        (None, '{"jti": "j", "htm": "POST", "htu": "URL", "iat": NOW, "x": NaN}'),
        (None, '{"jti": "j", "htm": "POST", "htu": "URL", "iat": NOW, "x": Infinity}'),
        (None, '{"jti": "j", "htm": "POST", "htu": "URL", "iat": NOW, "x": ' + "[" * 3000),
        (None, '{"jti": "j", "htm": "POST", "htu": "URL", "iat": NOW, "x": ' + "9" * 5000 + "}"),
    ],
)
def test_malformed_json(header: str | None, claims: str | None) -> None:
    jwk = json.dumps(public_jwk(EC_KEY))
    header = header or '{"typ": "dpop+jwt", "alg": "ES256", "jwk": JWK}'
    claims = claims or '{"jti": "j", "htm": "POST", "htu": "URL", "iat": NOW}'
    header = header.replace("JWK", jwk)
    claims = claims.replace("URL", URL).replace("NOW", str(NOW))
    refused(sign_raw(header, claims, EC_KEY, "ES256"))


def test_the_well_formed_json_of_test_malformed_json_passes() -> None:
    header = json.dumps({"typ": "dpop+jwt", "alg": "ES256", "jwk": public_jwk(EC_KEY)})
    claims = json.dumps({"jti": "j", "htm": "POST", "htu": URL, "iat": NOW})
    assert verify(sign_raw(header, claims, EC_KEY, "ES256")).jti == "j"


def test_claims_not_utf8() -> None:
    header = json.dumps({"typ": "dpop+jwt", "alg": "ES256", "jwk": public_jwk(EC_KEY)})
    claims = b'{"jti": "\xff", "htm": "POST"}'
    signing_input = f"{b64(header.encode())}.{b64(claims)}"
    signature = get_default_algorithms()["ES256"].sign(signing_input.encode(), EC_KEY)
    refused(f"{signing_input}.{b64(signature)}")
