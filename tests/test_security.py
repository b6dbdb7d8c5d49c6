"""Security events on the ``refreshauth.security`` logger: one record per event, with
who and where, and never a token or a password."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from rest_framework.test import APIClient

from refreshauth import sessions

from .factories import PASSWORD
from .test_dpop_sessions import Key

pytestmark = pytest.mark.django_db

LOGGER = "refreshauth.security"


@pytest.fixture
def events(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.INFO, logger=LOGGER)

    def of(name: str) -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == LOGGER and r.event == name]  # type: ignore[attr-defined]

    return of


def secrets_absent(records: list[logging.LogRecord], *secrets: str) -> bool:
    text = " ".join(r.getMessage() + repr(vars(r)) for r in records)
    return not any(secret in text for secret in secrets)


def test_reuse_is_one_warning_with_user_session_and_client(
    api: APIClient, login: Any, events: Any, user: Any
) -> None:
    first = login(REMOTE_ADDR="198.51.100.9")
    api.post("/api/auth/refresh/", {"refresh_token": first["refresh_token"]}, format="json")
    api.post(
        "/api/auth/refresh/",
        {"refresh_token": first["refresh_token"]},
        format="json",
        REMOTE_ADDR="203.0.113.5",
    )
    [reused] = events("refresh_token_reused")
    assert reused.levelno == logging.WARNING
    assert reused.user_id == str(user.pk)  # type: ignore[attr-defined]
    assert reused.session_id  # type: ignore[attr-defined]
    assert reused.client_ip == "203.0.113.5"  # type: ignore[attr-defined]
    [revoked] = events("session_revoked")
    assert revoked.reason == "reuse"  # type: ignore[attr-defined]
    assert secrets_absent(
        events("refresh_token_reused") + events("session_revoked"),
        first["refresh_token"],
        first["access_token"],
    )


def test_every_revocation_is_recorded_with_its_reason(user: Any, events: Any) -> None:
    a, b = sessions.open_session(user), sessions.open_session(user)
    sessions.revoke_token(a.refresh_token)
    sessions.revoke_all(user)
    assert [r.reason for r in events("session_revoked")] == ["logout", "logout_all"]  # type: ignore[attr-defined]
    assert {r.session_id for r in events("session_revoked")} == {  # type: ignore[attr-defined]
        str(a.session.pk),
        str(b.session.pk),
    }


def test_a_rate_limited_login_is_recorded_without_the_password(
    api: APIClient, user: Any, events: Any
) -> None:
    for _ in range(7):
        api.post("/api/auth/login/", {"username": "alice", "password": "guess-1"}, format="json")
    limited = events("login_rate_limited")
    assert len(limited) == 2  # the sixth and seventh attempts
    assert limited[0].client_ip == "127.0.0.1"  # type: ignore[attr-defined]
    assert secrets_absent(limited, "guess-1", PASSWORD)


def test_a_refused_dpop_proof_is_recorded(
    api: APIClient, user: Any, events: Any, settings: Any
) -> None:
    settings.REFRESHAUTH = {"DPOP": "allowed"}
    key = Key()
    body = api.post(
        "/api/auth/login/",
        {"username": "alice", "password": PASSWORD},
        format="json",
        HTTP_DPOP=key.proof("POST", "/api/auth/login/"),
    ).json()
    api.post("/api/auth/refresh/", {"refresh_token": body["refresh_token"]}, format="json")
    api.get("/api/me/", HTTP_AUTHORIZATION=f"DPoP {body['access_token']}")
    refused = events("dpop_proof_refused")
    assert len(refused) == 2
    assert secrets_absent(refused, body["refresh_token"], body["access_token"])
