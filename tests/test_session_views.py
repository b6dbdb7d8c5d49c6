"""GET sessions/ and DELETE sessions/<id>/: a user's own sessions, and only theirs."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from refreshauth import sessions
from refreshauth.models import RefreshToken, RevokeReason

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def auth(body: dict[str, Any] | sessions.TokenResponse) -> dict[str, str]:
    token = body.access_token if isinstance(body, sessions.TokenResponse) else body["access_token"]
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_lists_live_sessions_most_recent_first(api: APIClient, login: Any, clock: Any) -> None:
    old = login(HTTP_USER_AGENT="old browser")
    clock.advance(timedelta(minutes=1))
    login(HTTP_USER_AGENT="new browser", REMOTE_ADDR="198.51.100.4")
    clock.advance(timedelta(minutes=1))
    gone = login()
    api.post("/api/auth/logout/", {"refresh_token": gone["refresh_token"]}, format="json")
    response = api.get("/api/auth/sessions/", **auth(old))
    assert response.status_code == 200
    items = response.json()
    assert [i["user_agent"] for i in items] == ["new browser", "old browser"]
    assert set(items[0]) == {
        "id",
        "created_at",
        "last_used_at",
        "expires_at",
        "ip_address",
        "user_agent",
        "device",
        "dpop",
        "current",
    }
    assert [i["current"] for i in items] == [False, True]
    assert [i["dpop"] for i in items] == [False, False]
    assert items[0]["ip_address"] == "198.51.100.4"
    assert items[0]["created_at"].startswith("2030-01-01T12:01:00")


def test_expired_sessions_are_not_listed(
    api: APIClient, login: Any, clock: Any, user: Any
) -> None:
    login()
    clock.advance(timedelta(days=7, seconds=1))
    fresh = sessions.open_session(user)
    items = api.get("/api/auth/sessions/", **auth(fresh)).json()
    assert [i["id"] for i in items] == [str(fresh.session.pk)]


def test_only_own_sessions_are_listed(api: APIClient, user: Any) -> None:
    mine = sessions.open_session(user)
    sessions.open_session(UserFactory(username="bob"))
    items = api.get("/api/auth/sessions/", **auth(mine)).json()
    assert [i["id"] for i in items] == [str(mine.session.pk)]


def test_delete_revokes_one_session(api: APIClient, user: Any) -> None:
    mine, other = sessions.open_session(user), sessions.open_session(user)
    response = api.delete(f"/api/auth/sessions/{other.session.pk}/", **auth(mine))
    assert response.status_code == 204
    row = RefreshToken.objects.get(pk=other.session.pk)
    assert row.revoke_reason == RevokeReason.USER
    assert RefreshToken.objects.get(pk=mine.session.pk).revoked_at is None


def test_delete_the_current_session_ends_it(
    api: APIClient, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    mine = sessions.open_session(user)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            api.delete(f"/api/auth/sessions/{mine.session.pk}/", **auth(mine)).status_code == 204
        )
    assert api.get("/api/me/", **auth(mine)).json()["code"] == "token_revoked"


def test_delete_another_users_session_is_404_and_revokes_nothing(
    api: APIClient, user: Any
) -> None:
    mine = sessions.open_session(user)
    theirs = sessions.open_session(UserFactory(username="bob"))
    response = api.delete(f"/api/auth/sessions/{theirs.session.pk}/", **auth(mine))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert RefreshToken.objects.get(pk=theirs.session.pk).revoked_at is None


@pytest.mark.parametrize("session_id", ["not-a-uuid", str(uuid.uuid4()), "1", "%00"])
def test_delete_unknown_or_invalid_id_is_404(api: APIClient, user: Any, session_id: str) -> None:
    mine = sessions.open_session(user)
    response = api.delete(f"/api/auth/sessions/{session_id}/", **auth(mine))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_delete_a_revoked_session_is_404(api: APIClient, user: Any) -> None:
    mine, other = sessions.open_session(user), sessions.open_session(user)
    sessions.revoke(other.session)
    assert api.delete(f"/api/auth/sessions/{other.session.pk}/", **auth(mine)).status_code == 404


def test_sessions_need_an_access_token(api: APIClient) -> None:
    response = api.get("/api/auth/sessions/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)


def test_device_is_the_given_name_or_read_from_the_user_agent(
    api: APIClient, user: Any, password: str
) -> None:
    def login(**extra: Any) -> Any:
        body = {"username": "alice", "password": password}
        body.update(extra.pop("body", {}))
        response = api.post("/api/auth/login/", body, format="json", **extra)
        assert response.status_code == 200, response.content
        return response.json()

    login(HTTP_USER_AGENT=IPHONE)
    named = login(HTTP_USER_AGENT=CHROME, body={"device_name": "Ann's laptop"})
    login(HTTP_USER_AGENT=CHROME)
    items = api.get("/api/auth/sessions/", **auth(named)).json()
    assert sorted(i["device"] for i in items) == sorted(
        ["Mobile Safari 17 on iOS", "Ann's laptop", "Chrome 156 on Linux"]
    )


@pytest.mark.parametrize("device_name", ["x" * 65, 7, ["a"], None])
def test_a_bad_device_name_is_400_and_opens_nothing(
    api: APIClient, user: Any, password: str, device_name: Any
) -> None:
    response = api.post(
        "/api/auth/login/",
        {"username": "alice", "password": password, "device_name": device_name},
        format="json",
    )
    assert response.status_code == 400
    assert "device_name" in response.json()
    assert not RefreshToken.objects.exists()
