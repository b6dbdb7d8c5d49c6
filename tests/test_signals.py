"""Each signal is sent with its documented arguments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.dispatch import Signal
from rest_framework.test import APIClient

from refreshauth import sessions
from refreshauth.models import RefreshToken, RevokeReason
from refreshauth.signals import refresh_token_reused, session_opened, session_revoked

from .factories import PASSWORD

pytestmark = pytest.mark.django_db


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, signal: Any = None, **kwargs: Any) -> None:
        self.calls.append(kwargs)


@pytest.fixture
def record() -> Iterator[Any]:
    connected: list[tuple[Signal, Recorder]] = []

    def connect(signal: Signal) -> Recorder:
        recorder = Recorder()
        signal.connect(recorder, weak=False)
        connected.append((signal, recorder))
        return recorder

    yield connect
    for signal, recorder in connected:
        signal.disconnect(recorder)


def test_session_opened_over_http(api: APIClient, user: Any, record: Any) -> None:
    opened = record(session_opened)
    api.post("/api/auth/login/", {"username": "alice", "password": PASSWORD}, format="json")
    assert len(opened.calls) == 1
    call = opened.calls[0]
    assert call["sender"] is RefreshToken
    assert call["user"] == user
    assert call["session"] == RefreshToken.objects.get()
    assert call["request"].path == "/api/auth/login/"


@pytest.mark.parametrize(
    "action,reason",
    [
        (lambda u, t: sessions.revoke_token(t.refresh_token), RevokeReason.LOGOUT),
        (lambda u, t: sessions.revoke_all(u), RevokeReason.LOGOUT_ALL),
        (lambda u, t: sessions.revoke(t.session, RevokeReason.ADMIN), RevokeReason.ADMIN),
    ],
)
def test_session_revoked(user: Any, record: Any, action: Any, reason: str) -> None:
    revoked = record(session_revoked)
    result = sessions.open_session(user)
    action(user, result)
    assert len(revoked.calls) == 1
    call = revoked.calls[0]
    assert (call["user"], call["session"].pk, call["reason"]) == (user, result.session.pk, reason)
    assert "request" in call


def test_session_revoked_on_password_change(user: Any, record: Any) -> None:
    revoked = record(session_revoked)
    sessions.open_session(user)
    sessions.open_session(user)
    user.set_password("changed password 12")
    user.save()
    assert [c["reason"] for c in revoked.calls] == [RevokeReason.PASSWORD_CHANGE] * 2


def test_refresh_token_reused_over_http(
    api: APIClient, login: Any, user: Any, record: Any
) -> None:
    reused = record(refresh_token_reused)
    revoked = record(session_revoked)
    token = login()["refresh_token"]
    api.post("/api/auth/refresh/", {"refresh_token": token}, format="json")
    api.post("/api/auth/refresh/", {"refresh_token": token}, format="json")
    assert len(reused.calls) == 1
    call = reused.calls[0]
    assert call["user"] == user
    assert call["session"] == RefreshToken.objects.get()
    assert call["request"].path == "/api/auth/refresh/"
    assert [c["reason"] for c in revoked.calls] == [RevokeReason.REUSE]
