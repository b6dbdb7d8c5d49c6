"""django-allauth's headless app flows ending in refreshauth sessions.

Run by tests/test_allauth.py in a process of its own, with
``--ds tests.allauth_project.settings``; some tests switch to allauth's own JWT strategy
to measure what refreshauth's strategy does differently.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from rest_framework.test import APIClient

from refreshauth import tokens
from refreshauth.contrib.allauth.strategy import SID_SESSION_KEY
from refreshauth.models import RefreshToken
from tests.factories import PASSWORD, UserFactory

APP = "/_allauth/app/v1"
EMAIL = "ann@example.com"
JWT_STRATEGY = "allauth.headless.tokens.strategies.jwt.JWTTokenStrategy"

# Transactions commit, as in production: revocation acts once its transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ann(transactional_db: Any) -> Any:
    user = UserFactory(username="ann", email=EMAIL)
    EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
    return user


def app_login(api: APIClient, email: str = EMAIL, **headers: str) -> dict[str, Any]:
    answer = api.post(
        f"{APP}/auth/login", {"email": email, "password": PASSWORD}, format="json", **headers
    )
    assert answer.status_code == 200, answer.content
    meta: dict[str, Any] = answer.json()["meta"]
    return meta


def me(api: APIClient, access: str) -> Any:
    return api.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {access}")


def refresh(api: APIClient, token: str) -> Any:
    return api.post("/api/auth/refresh/", {"refresh_token": token}, format="json")


def allauth_refresh(api: APIClient, token: str) -> Any:
    return api.post(f"{APP}/tokens/refresh", {"refresh_token": token}, format="json")


def allauth_session(api: APIClient, session_token: str) -> Any:
    return api.get(f"{APP}/auth/session", HTTP_X_SESSION_TOKEN=session_token)


# --- refreshauth's strategy -----------------------------------------------------------


def test_an_app_login_answers_refreshauth_tokens(api: APIClient, ann: Any) -> None:
    meta = app_login(api, HTTP_USER_AGENT="MyApp/1.0")
    assert meta["is_authenticated"] is True
    assert {"session_token", "access_token", "refresh_token"} <= set(meta)
    assert meta["token_type"] == "Bearer"
    assert meta["expires_in"] == 900 and meta["refresh_expires_in"] == 604800
    claims = tokens.decode_access(meta["access_token"])
    session = RefreshToken.objects.get(pk=claims["sid"])
    assert session.user_id == ann.pk and session.user_agent == "MyApp/1.0"
    assert tokens.decode_refresh(meta["refresh_token"]).claims["sid"] == claims["sid"]
    # allauth's Django session knows its refreshauth session.
    assert SessionStore(meta["session_token"])[SID_SESSION_KEY] == claims["sid"]
    assert UserSession.objects.get(session_key=meta["session_token"]).data == {
        "refreshauth_sid": claims["sid"]
    }
    # The access token is the API's; the session token is allauth's.
    assert me(api, meta["access_token"]).json() == {"id": ann.pk, "username": "ann"}
    assert allauth_session(api, meta["session_token"]).status_code == 200


def test_a_failed_login_opens_no_session(api: APIClient, ann: Any) -> None:
    answer = api.post(f"{APP}/auth/login", {"email": EMAIL, "password": "nope"}, format="json")
    assert answer.status_code == 400
    assert "access_token" not in answer.json().get("meta", {})
    assert RefreshToken.objects.count() == 0


def test_a_login_in_two_stages_ends_in_a_refreshauth_session(api: APIClient) -> None:
    """Email verification by code, a pending stage held by the session token: the
    stage that completes the login gets the tokens (as MFA, passkeys and social logins
    do, through the same strategy call)."""
    user = UserFactory(username="bob", email="bob@example.com")
    EmailAddress.objects.create(user=user, email="bob@example.com", verified=False, primary=True)
    first = api.post(
        f"{APP}/auth/login", {"email": "bob@example.com", "password": PASSWORD}, format="json"
    )
    assert first.status_code == 401, first.content
    session_token = first.json()["meta"]["session_token"]
    assert "access_token" not in first.json()["meta"]
    assert RefreshToken.objects.count() == 0
    code = next(
        line.strip() for line in mail.outbox[-1].body.splitlines() if line.strip().isupper()
    )
    done = api.post(
        f"{APP}/auth/email/verify",
        {"key": code},
        format="json",
        HTTP_X_SESSION_TOKEN=session_token,
    )
    assert done.status_code == 200, done.content
    meta = done.json()["meta"]
    assert me(api, meta["access_token"]).json()["username"] == "bob"
    assert RefreshToken.objects.filter(user=user).count() == 1


def test_refresh_rotates_and_reuse_revokes_the_session(api: APIClient, ann: Any) -> None:
    meta = app_login(api)
    first = refresh(api, meta["refresh_token"])
    assert first.status_code == 200, first.content
    assert me(api, first.json()["access_token"]).status_code == 200

    reused = refresh(api, meta["refresh_token"])
    assert reused.status_code == 401
    assert reused.json()["code"] == "token_reused"
    # The whole session is gone: the successor, the access tokens, allauth's session.
    assert refresh(api, first.json()["refresh_token"]).json()["code"] == "token_revoked"
    assert me(api, first.json()["access_token"]).json()["code"] == "token_revoked"
    assert allauth_session(api, meta["session_token"]).status_code == 410
    assert not UserSession.objects.filter(session_key=meta["session_token"]).exists()


def test_allauths_refresh_endpoint_is_refreshauths_rotation(api: APIClient, ann: Any) -> None:
    meta = app_login(api)
    answer = allauth_refresh(api, meta["refresh_token"])
    assert answer.status_code == 200, answer.content
    data = answer.json()["data"]
    assert data["refresh_token"] != meta["refresh_token"]
    assert me(api, data["access_token"]).status_code == 200
    assert refresh(api, data["refresh_token"]).status_code == 200  # one session, two doors

    # The first token again: allauth's error, and refreshauth revokes the session.
    assert allauth_refresh(api, meta["refresh_token"]).status_code == 400
    session = RefreshToken.objects.get()
    assert session.revoke_reason == "reuse"
    assert allauth_refresh(api, "not a token").status_code == 400


def test_allauths_refresh_endpoint_keeps_refresh_rate(
    api: APIClient, ann: Any, settings: Any
) -> None:
    settings.REFRESHAUTH = {"REFRESH_RATE": "1/m"}
    meta = app_login(api)
    first = allauth_refresh(api, meta["refresh_token"])
    assert first.status_code == 200
    limited = allauth_refresh(api, first.json()["data"]["refresh_token"])
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60


def test_logout_through_allauth_revokes_the_session(api: APIClient, ann: Any) -> None:
    meta = app_login(api)
    out = api.delete(f"{APP}/auth/session", HTTP_X_SESSION_TOKEN=meta["session_token"])
    assert out.status_code == 401  # allauth: now unauthenticated
    assert RefreshToken.objects.get().revoke_reason == "logout"
    assert refresh(api, meta["refresh_token"]).json()["code"] == "token_revoked"
    assert me(api, meta["access_token"]).json()["code"] == "token_revoked"


def test_logout_through_refreshauth_ends_allauths_session(api: APIClient, ann: Any) -> None:
    meta = app_login(api)
    out = api.post("/api/auth/logout/", {"refresh_token": meta["refresh_token"]}, format="json")
    assert out.status_code == 204
    assert allauth_session(api, meta["session_token"]).status_code == 410


def test_a_session_revoked_while_its_django_session_is_unknown_ends_at_next_use(
    api: APIClient, ann: Any
) -> None:
    """Without allauth.usersessions' rows to follow, the session token is refused at
    its next use."""
    meta = app_login(api)
    UserSession.objects.all().update(data={})
    RefreshToken.objects.update(revoked_at=RefreshToken.objects.get().created_at)
    assert allauth_session(api, meta["session_token"]).status_code == 410
    assert not SessionStore().exists(meta["session_token"])


def test_ending_a_session_in_allauth_revokes_it_in_refreshauth(api: APIClient, ann: Any) -> None:
    phone = app_login(api, HTTP_USER_AGENT="Phone")
    laptop = app_login(APIClient(), HTTP_USER_AGENT="Laptop")
    listed = api.get(f"{APP}/auth/sessions", HTTP_X_SESSION_TOKEN=laptop["session_token"])
    phone_id = next(s["id"] for s in listed.json()["data"] if s["user_agent"] == "Phone")
    ended = api.delete(
        f"{APP}/auth/sessions",
        {"sessions": [phone_id]},
        format="json",
        HTTP_X_SESSION_TOKEN=laptop["session_token"],
    )
    assert ended.status_code == 200, ended.content
    assert refresh(api, phone["refresh_token"]).json()["code"] == "token_revoked"
    assert refresh(api, laptop["refresh_token"]).status_code == 200


def test_sessions_revoked_in_refreshauth_leave_allauths_list(api: APIClient, ann: Any) -> None:
    phone = app_login(api, HTTP_USER_AGENT="Phone")
    laptop = app_login(APIClient(), HTTP_USER_AGENT="Laptop")
    answer = api.post(
        "/api/auth/logout-all/",
        {"keep_current": True},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {laptop['access_token']}",
    )
    assert answer.status_code == 204
    listed = api.get(f"{APP}/auth/sessions", HTTP_X_SESSION_TOKEN=laptop["session_token"])
    assert [s["user_agent"] for s in listed.json()["data"]] == ["Laptop"]
    assert allauth_session(api, phone["session_token"]).status_code == 410


def test_a_password_change_through_allauth_revokes_every_session(api: APIClient, ann: Any) -> None:
    meta = app_login(api)
    changed = api.post(
        f"{APP}/account/password/change",
        {"current_password": PASSWORD, "new_password": "another pass 9876"},
        format="json",
        HTTP_X_SESSION_TOKEN=meta["session_token"],
    )
    assert changed.status_code in (200, 401), changed.content
    assert refresh(api, meta["refresh_token"]).json()["code"] == "token_revoked"
    assert me(api, meta["access_token"]).json()["code"] == "token_revoked"


# --- what allauth's own JWT strategy does with the same requests ------------------------


@pytest.fixture
def jwt_strategy(settings: Any) -> None:
    settings.HEADLESS_TOKEN_STRATEGY = JWT_STRATEGY


def test_jwt_strategy_a_reused_refresh_token_revokes_nothing(
    api: APIClient, ann: Any, jwt_strategy: None
) -> None:
    meta = app_login(api)
    first = allauth_refresh(api, meta["refresh_token"])
    assert first.status_code == 200
    stolen_reuse = allauth_refresh(api, meta["refresh_token"])
    assert stolen_reuse.status_code == 400
    # The successor still works: whoever holds it (thief or owner) goes on refreshing.
    assert allauth_refresh(api, first.json()["data"]["refresh_token"]).status_code == 200


def test_jwt_strategy_access_tokens_outlive_a_logout(
    api: APIClient, ann: Any, jwt_strategy: None
) -> None:
    meta = app_login(api)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {meta['access_token']}"}
    assert api.get("/api/allauth-jwt-me/", **bearer).status_code == 200
    api.delete(f"{APP}/auth/session", HTTP_X_SESSION_TOKEN=meta["session_token"])
    assert api.get("/api/allauth-jwt-me/", **bearer).status_code == 200


def test_sessions_refreshed_every_few_days(api: APIClient, ann: Any, settings: Any) -> None:
    """Refreshed every 6 days for 60 days: refreshauth ends the session at
    SESSION_MAX_LIFETIME (30 days); allauth's JWT strategy slides on for ever."""
    import time_machine

    def first_refusal(strategy: str) -> int | None:
        """The day of the first refused refresh, or None when none was refused."""
        settings.HEADLESS_TOKEN_STRATEGY = strategy
        with time_machine.travel("2030-01-01 12:00:00+00:00", tick=False) as clock:
            token = app_login(APIClient())["refresh_token"]
            for day in range(6, 61, 6):
                clock.shift(timedelta(days=6))
                answer = allauth_refresh(api, token)
                if answer.status_code != 200:
                    return day
                token = answer.json()["data"]["refresh_token"]
        return None

    assert first_refusal(JWT_STRATEGY) is None
    assert first_refusal("refreshauth.contrib.allauth.RefreshAuthTokenStrategy") == 30
