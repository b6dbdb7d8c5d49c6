"""The codec's claim rules (refreshauth.tokens): one spelling per token, exact claims,
never a 500 for anything a signer could put in them."""

from __future__ import annotations

import base64
import string
from typing import Any

import jwt
import pytest

from refreshauth import sessions, tokens
from refreshauth.exceptions import InvalidToken

from .test_authentication import parts, resign

pytestmark = pytest.mark.django_db

ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def other_spellings(segment: str) -> list[str]:
    """Spellings of ``segment`` that a lenient decoder reads as the same bytes: the last
    character with other values in its unused low bits."""
    unused = {2: 4, 3: 2}.get(len(segment) % 4, 0)
    if not unused:
        return []
    last = ALPHABET.index(segment[-1])
    variants = {ALPHABET[(last & ~((1 << unused) - 1)) | bits] for bits in range(1 << unused)}
    variants.discard(segment[-1])
    return [segment[:-1] + v for v in sorted(variants)]


@pytest.fixture
def access(user: Any) -> str:
    return sessions.open_session(user).access_token


def decode(token: str) -> dict[str, Any]:
    return tokens.decode_access(token)


def test_the_issued_spelling_verifies(access: str) -> None:
    assert decode(access)["sid"]


def test_a_signature_with_other_unused_bits_is_refused(access: str) -> None:
    head, body, signature = access.split(".")
    variants = other_spellings(signature)
    assert variants, "an HS256 signature has unused bits in its last character"
    for variant in variants:
        assert base64.urlsafe_b64decode(variant + "=") == base64.urlsafe_b64decode(signature + "=")
        with pytest.raises(InvalidToken):
            decode(f"{head}.{body}.{variant}")


def test_a_refresh_token_has_one_spelling_too(user: Any) -> None:
    refresh = sessions.open_session(user).refresh_token
    head, body, signature = refresh.split(".")
    for variant in other_spellings(signature):
        with pytest.raises(InvalidToken):
            tokens.decode_refresh(f"{head}.{body}.{variant}")


@pytest.mark.parametrize(
    "aud", [[1], ["api", 2], [{"a": 1}], [["api"]], [], 3, {"aud": "api"}, True]
)
def test_an_audience_of_the_wrong_shape_is_invalid_not_a_500(
    access: str, settings: Any, aud: Any
) -> None:
    settings.REFRESHAUTH = {"AUDIENCE": "api"}
    with pytest.raises(InvalidToken):
        decode(resign(access, aud=aud))


def test_an_audience_list_with_the_wanted_one_verifies(access: str, settings: Any) -> None:
    settings.REFRESHAUTH = {"AUDIENCE": "api"}
    assert decode(resign(access, aud=["other", "api"]))["aud"] == ["other", "api"]


def test_the_codec_refuses_padding_and_noise(access: str) -> None:
    head, body, signature = access.split(".")
    for bad in (f"{head}=.{body}.{signature}", f"{head}.{body}.{signature}=", f" {access}"):
        with pytest.raises(InvalidToken):
            decode(bad)


def test_header_and_payload_are_read_from_their_one_spelling(access: str) -> None:
    header, payload, _ = parts(access)
    key = tokens.access_keys().current
    token = jwt.encode(payload, key.signing, "HS256", headers=header)
    assert decode(token) == payload
