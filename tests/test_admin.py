"""The sessions admin and the user-admin action."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from refreshauth import sessions
from refreshauth.models import RefreshToken, RevokeReason

from .factories import RefreshTokenFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db: Any) -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_changelist_shows_sessions_and_no_digest(admin_client: Client, user: Any) -> None:
    live = sessions.open_session(user)
    RefreshTokenFactory(user=user, revoked=True)
    RefreshTokenFactory(user=user, expired=True, user_agent="Firefox")
    response = admin_client.get("/admin/refreshauth/refreshtoken/")
    assert response.status_code == 200
    html = response.content.decode()
    assert str(live.session.pk) in html
    assert "revoked (Logged out)" in html and "expired" in html and "live" in html
    assert live.session.jti_hash not in html
    assert live.session.password_fingerprint not in html


@pytest.mark.parametrize(
    "query",
    [
        "state=live",
        "state=expired",
        "state=revoked",
        "q=alice",
        "q=alice@example.com",
        "revoke_reason__exact=logout",
    ],
)
def test_filters_and_search(admin_client: Client, user: Any, query: str) -> None:
    RefreshTokenFactory(user=user)
    RefreshTokenFactory(user=user, revoked=True)
    RefreshTokenFactory(user=user, expired=True)
    response = admin_client.get(f"/admin/refreshauth/refreshtoken/?{query}")
    assert response.status_code == 200
    assert "alice" in response.content.decode()


def test_search_by_email_finds_the_user(admin_client: Client, user: Any) -> None:
    RefreshTokenFactory(user=user)
    RefreshTokenFactory(user=UserFactory(username="bob"))
    response = admin_client.get("/admin/refreshauth/refreshtoken/?q=bob@example.com")
    assert response.context["cl"].result_count == 1


def test_change_page_renders_without_digests(admin_client: Client, user: Any) -> None:
    row = RefreshTokenFactory(user=user)
    response = admin_client.get(f"/admin/refreshauth/refreshtoken/{row.pk}/change/")
    assert response.status_code == 200
    assert row.jti_hash not in response.content.decode()


def test_no_add_form(admin_client: Client) -> None:
    assert admin_client.get("/admin/refreshauth/refreshtoken/add/").status_code == 403


def test_revoke_selected_action(
    admin_client: Client, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a, b, c = (sessions.open_session(user) for _ in range(3))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/refreshauth/refreshtoken/",
            {"action": "revoke_selected", "_selected_action": [a.session.pk, b.session.pk]},
            follow=True,
        )
    assert "Revoked 2 sessions." in response.content.decode()
    reasons = dict(RefreshToken.objects.values_list("pk", "revoke_reason"))
    assert reasons[a.session.pk] == reasons[b.session.pk] == RevokeReason.ADMIN
    assert reasons[c.session.pk] == ""
    assert sessions.is_session_revoked(str(a.session.pk))


def test_user_admin_action_revokes_all_sessions_of_selected_users(
    admin_client: Client, user: Any
) -> None:
    bob = UserFactory(username="bob")
    carol = UserFactory(username="carol")
    for u in (user, user, bob, carol):
        sessions.open_session(u)
    response = admin_client.post(
        "/admin/auth/user/",
        {"action": "revoke_user_sessions", "_selected_action": [user.pk, bob.pk]},
        follow=True,
    )
    assert "Revoked 3 sessions." in response.content.decode()
    assert list(RefreshToken.objects.live().values_list("user__username", flat=True)) == ["carol"]
