"""Behind a primary/replica router whose replica lags: every read that decides goes to
the primary (SPEC section 9). The "replica" database is a stale copy, taken before the
login, that never catches up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from rest_framework.test import APIClient

from refreshauth import sessions
from refreshauth.models import RefreshToken

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(databases=["default", "replica"])


class PrimaryReplicaRouter:
    """Reads from the replica, writes to the primary: the router every tutorial shows."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return "replica"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "default"

    def allow_relation(self, a: Any, b: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return True


ROUTER = f"{__name__}.PrimaryReplicaRouter"


def snapshot() -> None:
    """Make the replica a copy of the primary as it is now (then it lags)."""
    models = (RefreshToken, get_user_model())
    for model in models:
        model._base_manager.using("replica").all().delete()
    for model in reversed(models):
        for row in model._base_manager.using("default").all():
            row.save(using="replica", force_insert=True)
    assert RefreshToken.objects.using("replica").count() == RefreshToken.objects.count()


@pytest.fixture
def routed() -> Iterator[None]:
    with override_settings(DATABASE_ROUTERS=[ROUTER]):
        yield


@pytest.fixture
def alice(routed: None) -> Any:
    user = UserFactory(username="alice")
    snapshot()  # the replica knows alice, and no session yet
    return user


def login(api: APIClient) -> dict[str, Any]:
    response = api.post(
        "/api/auth/login/", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return dict(response.json())


def refresh(api: APIClient, token: str) -> Any:
    return api.post("/api/auth/refresh/", {"refresh_token": token}, format="json")


def live_on_primary() -> int:
    return RefreshToken.objects.using("default").filter(revoked_at__isnull=True).count()


def test_a_refresh_right_after_a_refresh_is_not_reuse(api: APIClient, alice: Any) -> None:
    first = login(api)
    snapshot()  # the replica has the session with its first token, and then lags
    second = refresh(api, first["refresh_token"])
    assert second.status_code == 200, second.content
    third = refresh(api, second.json()["refresh_token"])
    assert third.status_code == 200, third.content
    assert live_on_primary() == 1


def test_a_refresh_of_a_session_the_replica_has_not_seen(api: APIClient, alice: Any) -> None:
    first = login(api)
    assert refresh(api, first["refresh_token"]).status_code == 200


def test_logout_right_after_login_revokes(api: APIClient, alice: Any) -> None:
    tokens = login(api)
    response = api.post(
        "/api/auth/logout/", {"refresh_token": tokens["refresh_token"]}, format="json"
    )
    assert response.status_code == 204
    assert live_on_primary() == 0
    assert refresh(api, tokens["refresh_token"]).json()["code"] == "token_revoked"


def test_logout_all_revokes_what_the_replica_has_not_seen(
    api: APIClient, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    mine = login(api)
    attacker = login(APIClient())  # a session opened a moment ago
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/auth/logout-all/", HTTP_AUTHORIZATION=f"Bearer {mine['access_token']}"
        )
    assert response.status_code == 204
    assert live_on_primary() == 0
    assert refresh(api, attacker["refresh_token"]).json()["code"] == "token_revoked"
    me = api.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {attacker['access_token']}")
    assert me.status_code == 401


def test_sessions_delete_revokes_what_the_replica_has_not_seen(api: APIClient, alice: Any) -> None:
    mine = login(api)
    other = login(APIClient())
    assert not RefreshToken.objects.using("replica").exists()
    other_sid = sessions.tokens.decode_refresh(other["refresh_token"]).claims["sid"]
    response = api.delete(
        f"/api/auth/sessions/{other_sid}/", HTTP_AUTHORIZATION=f"Bearer {mine['access_token']}"
    )
    assert response.status_code == 204
    assert live_on_primary() == 1


def test_authentication_reads_the_session_state_from_the_primary(
    api: APIClient, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    tokens = login(api)
    snapshot()  # the replica says "live"
    RefreshToken.objects.using("default").update(revoked_at=sessions._now())
    me = api.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert me.json().get("code") == "token_revoked", me.json()


def test_a_session_limit_counts_what_the_replica_has_not_seen(
    api: APIClient, alice: Any, settings: Any
) -> None:
    settings.REFRESHAUTH = {"MAX_SESSIONS_PER_USER": 1}
    login(api)
    login(api)
    assert live_on_primary() == 1
