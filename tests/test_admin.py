"""The sessions admin and the user-admin action."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

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
    "query,expected",
    [
        ("state=live", {"live", "bob"}),
        ("state=expired", {"expired"}),
        ("state=revoked", {"revoked"}),
        ("q=alice", {"live", "revoked", "expired"}),
        ("q=alice@example.com", {"live", "revoked", "expired"}),
        ("q=bob", {"bob"}),
        ("revoke_reason__exact=logout", {"revoked"}),
    ],
)
def test_filters_and_search(
    admin_client: Client, user: Any, query: str, expected: set[str]
) -> None:
    rows = {
        "live": RefreshTokenFactory(user=user),
        "revoked": RefreshTokenFactory(user=user, revoked=True),
        "expired": RefreshTokenFactory(user=user, expired=True),
        "bob": RefreshTokenFactory(user=UserFactory(username="bob")),
    }
    response = admin_client.get(f"/admin/refreshauth/refreshtoken/?{query}")
    assert response.status_code == 200
    shown = {row.pk for row in response.context["cl"].result_list}
    assert shown == {rows[name].pk for name in expected}


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


def staff(*perms: str) -> Client:
    from django.contrib.auth.models import Permission

    member = UserFactory(username="staff" + "-".join(perms), is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        member.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    client = Client()
    client.force_login(member)
    return client


def test_device_and_short_id_in_the_list(admin_client: Client, user: Any) -> None:
    row = RefreshTokenFactory(
        user=user,
        user_agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/156.0.0.0 Safari/537.36",
    )
    html = admin_client.get("/admin/refreshauth/refreshtoken/").content.decode()
    assert "Chrome 156 on Linux" in html
    assert f">{str(row.pk)[:8]}</a>" in html


def test_times_in_the_list_are_relative_with_the_date_in_a_tooltip(
    clock: Any, admin_client: Client, user: Any
) -> None:
    now = timezone.now()
    RefreshTokenFactory(
        user=user,
        last_used_at=now - timedelta(hours=3, minutes=5),
        expires_at=now + timedelta(days=6, hours=2),
    )
    RefreshTokenFactory(
        user=user, last_used_at=now - timedelta(seconds=20), expires_at=now - timedelta(days=2)
    )
    html = admin_client.get("/admin/refreshauth/refreshtoken/").content.decode()
    assert '<span title="Jan. 1, 2030, 8:55 a.m.">3\xa0hours ago</span>' in html
    assert ">in 6\xa0days</span>" in html
    assert ">just now</span>" in html and ">2\xa0days ago</span>" in html


def test_sessions_are_never_deleted_from_the_admin(admin_client: Client, user: Any) -> None:
    row = RefreshTokenFactory(user=user)
    response = admin_client.get("/admin/refreshauth/refreshtoken/")
    actions = [name for name, _ in response.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions and "revoke_selected" in actions
    assert admin_client.get(f"/admin/refreshauth/refreshtoken/{row.pk}/delete/").status_code == 403
    response = admin_client.post(
        "/admin/refreshauth/refreshtoken/",
        {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
    )
    assert RefreshToken.objects.filter(pk=row.pk).exists()
    change = admin_client.get(f"/admin/refreshauth/refreshtoken/{row.pk}/change/")
    assert b"deletelink" not in change.content


def test_view_only_staff_sees_sessions_and_changes_nothing(user: Any) -> None:
    viewer = staff("refreshauth.view_refreshtoken", "auth.view_user")
    live = sessions.open_session(user)
    response = viewer.get("/admin/refreshauth/refreshtoken/")
    assert response.status_code == 200
    assert str(live.session.pk)[:8] in response.content.decode()
    assert response.context["action_form"] is None or not [
        name for name, _ in response.context["action_form"].fields["action"].choices if name
    ]
    viewer.post(
        "/admin/refreshauth/refreshtoken/",
        {"action": "revoke_selected", "_selected_action": [live.session.pk]},
    )
    users = viewer.post(
        "/admin/auth/user/",
        {"action": "revoke_user_sessions", "_selected_action": [user.pk]},
    )
    assert users.status_code in (200, 302)
    assert RefreshToken.objects.live().count() == 1
    change = viewer.get(f"/admin/refreshauth/refreshtoken/{live.session.pk}/change/")
    assert change.status_code == 200 and b'name="_save"' not in change.content


@pytest.mark.parametrize(
    "perms,allowed",
    [
        (("auth.view_user", "auth.change_user"), False),
        (("auth.view_user", "refreshauth.change_refreshtoken"), False),
        (("auth.change_user", "refreshauth.change_refreshtoken"), True),
    ],
)
def test_the_user_admin_action_needs_both_permissions(
    user: Any, perms: tuple[str, ...], allowed: bool
) -> None:
    client = staff(*perms)
    sessions.open_session(user)
    listing = client.get("/admin/auth/user/")
    offered = listing.context["action_form"] is not None and "revoke_user_sessions" in [
        name for name, _ in listing.context["action_form"].fields["action"].choices
    ]
    assert offered is allowed
    client.post(
        "/admin/auth/user/", {"action": "revoke_user_sessions", "_selected_action": [user.pk]}
    )
    assert RefreshToken.objects.live().count() == (0 if allowed else 1)


def test_the_list_shows_whether_a_session_is_bound(admin_client: Client, user: Any) -> None:
    RefreshTokenFactory(user=user, dpop_jkt="x" * 43, device_name="Ann's phone")
    response = admin_client.get("/admin/refreshauth/refreshtoken/")
    html = response.content.decode()
    assert "Ann&#x27;s phone" in html
    assert 'alt="True"' in html
