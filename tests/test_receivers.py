"""Revocation on account changes: every path of password change, deactivation, deletion."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from refreshauth import sessions
from refreshauth.exceptions import RevokedToken
from refreshauth.models import RefreshToken, RevokeReason

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def live(user: Any) -> int:
    return RefreshToken.objects.live().filter(user=user).count()


def test_set_password_and_save_revokes_all(user: Any) -> None:
    a, b = sessions.open_session(user), sessions.open_session(user)
    user.set_password("a new password 123")
    user.save()
    assert live(user) == 0
    assert set(RefreshToken.objects.values_list("revoke_reason", flat=True)) == {
        RevokeReason.PASSWORD_CHANGE
    }
    for result in (a, b):
        with pytest.raises(RevokedToken):
            sessions.rotate(result.refresh_token)


def test_other_users_keep_their_sessions(user: Any) -> None:
    bob = UserFactory(username="bob")
    sessions.open_session(bob)
    user.set_password("a new password 123")
    user.save()
    assert live(bob) == 1


def test_save_of_first_name_revokes_nothing_and_costs_no_extra_query(
    user: Any, django_assert_num_queries: Any
) -> None:
    sessions.open_session(user)
    user = get_user_model().objects.get(pk=user.pk)
    user.first_name = "Alice"
    with django_assert_num_queries(1):
        user.save()
    assert live(user) == 1


def test_deactivation_revokes_all(user: Any) -> None:
    sessions.open_session(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert RefreshToken.objects.get().revoke_reason == RevokeReason.DEACTIVATED


def test_deactivation_of_a_user_loaded_without_is_active(user: Any) -> None:
    sessions.open_session(user)
    partial = get_user_model().objects.only("pk").get(pk=user.pk)
    partial.is_active = False
    partial.save(update_fields=["is_active"])
    assert live(user) == 0


def test_update_fields_without_password_ignores_an_unsaved_change(user: Any) -> None:
    sessions.open_session(user)
    user.set_password("not saved 12345")
    user.save(update_fields=["first_name"])
    assert live(user) == 1


def test_changepassword_command_revokes(user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sessions.open_session(user)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "brand new password 9")
    call_command("changepassword", "alice", stdout=StringIO())
    assert live(user) == 0


def test_admin_password_form_revokes(user: Any) -> None:
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    sessions.open_session(user)
    client = Client()
    client.force_login(admin)
    response = client.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": "admin set this 123", "password2": "admin set this 123"},
    )
    assert response.status_code == 302, response.content[:500]
    assert live(user) == 0


@pytest.mark.urls("tests.urls")
def test_password_reset_views_revoke(user: Any) -> None:
    sessions.open_session(user)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    client = Client()
    response = client.get(f"/accounts/reset/{uid}/{token}/")
    assert response.status_code == 302
    response = client.post(
        response["Location"],
        {"new_password1": "reset password 123", "new_password2": "reset password 123"},
    )
    assert response.status_code == 302, response.content[:300]
    assert live(user) == 0


def test_hasher_upgrade_at_login_ends_no_session(api: Any, user: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    first = sessions.open_session(user)
    # A new default hasher: the next successful login rehashes the password.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    response = api.post(
        "/api/auth/login/", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$")
    assert live(user) == 2
    assert sessions.rotate(first.refresh_token).access_token


def test_deleting_a_user_deletes_its_sessions(user: Any) -> None:
    sessions.open_session(user)
    user.delete()
    assert not RefreshToken.objects.exists()


def test_works_with_a_user_loaded_without_the_password(user: Any) -> None:
    sessions.open_session(user)
    partial = get_user_model().objects.defer("password").get(pk=user.pk)
    partial.set_password("another password 1")
    partial.save()
    assert live(user) == 0


def test_check_password_rehash_on_a_loaded_user_ends_no_session(user: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    first = sessions.open_session(user)
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    loaded = get_user_model().objects.get(pk=user.pk)
    assert loaded.check_password(PASSWORD)
    assert loaded.password.startswith("pbkdf2_sha256$")
    assert live(user) == 1
    assert sessions.rotate(first.refresh_token).access_token


def test_set_unusable_password_with_update_fields_revokes(user: Any) -> None:
    tokens = sessions.open_session(user)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    assert live(user) == 0
    with pytest.raises(RevokedToken):
        sessions.rotate(tokens.refresh_token)


@pytest.mark.parametrize("update_fields", [["password"], None])
def test_an_assigned_hash_revokes_whatever_update_fields_says(
    user: Any, settings: Any, update_fields: list[str] | None
) -> None:
    from django.contrib.auth.hashers import make_password

    # Even when the old hash was one a login would have rehashed.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    tokens = sessions.open_session(user)
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    user.password = make_password("a new password 1")
    user.save(update_fields=update_fields)
    assert live(user) == 0
    with pytest.raises(RevokedToken):
        sessions.rotate(tokens.refresh_token)


def test_a_set_password_mimicking_a_rehash_outside_check_password_revokes(user: Any) -> None:
    sessions.open_session(user)
    user.set_password("a new password 1")
    user._password = None  # what check_password's setter does, but no password was checked
    user.save(update_fields=["password"])
    assert live(user) == 0


def test_an_unusable_password_assigned_by_queryset_update_ends_the_session_at_refresh(
    user: Any,
) -> None:
    from django.contrib.auth.hashers import make_password

    tokens = sessions.open_session(user)
    get_user_model().objects.filter(pk=user.pk).update(password=make_password(None))
    with pytest.raises(RevokedToken):
        sessions.rotate(tokens.refresh_token)
