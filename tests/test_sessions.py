"""The lifecycle: rotation, reuse detection, grace period, lifetimes, query counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from refreshauth import sessions, tokens
from refreshauth.exceptions import ExpiredToken, InvalidToken, ReusedToken, RevokedToken
from refreshauth.models import RefreshToken, RevokeReason
from refreshauth.signals import refresh_token_reused

pytestmark = pytest.mark.django_db


def test_open_session_stores_only_digests(user: Any) -> None:
    result = sessions.open_session(user)
    row = RefreshToken.objects.get()
    claims = tokens.decode_refresh(result.refresh_token).claims
    assert str(row.pk) == claims["sid"]
    assert row.jti_hash == tokens.digest(claims["jti"])
    values = [str(v) for v in RefreshToken.objects.values().get().values()]
    assert claims["jti"] not in values
    assert result.refresh_token not in values and result.access_token not in values


def test_rotation_kills_the_old_token(user: Any) -> None:
    first = sessions.open_session(user)
    second = sessions.rotate(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    with pytest.raises(ReusedToken):
        sessions.rotate(first.refresh_token)


def test_reuse_revokes_the_successor_but_not_other_sessions(user: Any) -> None:
    stolen = sessions.open_session(user)
    other = sessions.open_session(user)
    successor = sessions.rotate(stolen.refresh_token)
    received: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        received.append(kwargs)

    refresh_token_reused.connect(receiver)
    try:
        with pytest.raises(ReusedToken):
            sessions.rotate(stolen.refresh_token)
    finally:
        refresh_token_reused.disconnect(receiver)
    assert len(received) == 1
    assert received[0]["user"] == user
    assert received[0]["session"].pk == stolen.session.pk
    assert "request" in received[0]
    row = RefreshToken.objects.get(pk=stolen.session.pk)
    assert row.revoke_reason == RevokeReason.REUSE
    with pytest.raises(RevokedToken):
        sessions.rotate(successor.refresh_token)
    with pytest.raises(RevokedToken):
        sessions.rotate(stolen.refresh_token)
    assert sessions.rotate(other.refresh_token).access_token


def test_grace_period_returns_the_identical_successor(
    user: Any, settings: Any, clock: Any
) -> None:
    settings.REFRESHAUTH = {"REUSE_GRACE_PERIOD": timedelta(seconds=10)}
    first = sessions.open_session(user)
    clock.advance(timedelta(seconds=3))
    winner = sessions.rotate(first.refresh_token)
    clock.advance(timedelta(seconds=5))
    retry = sessions.rotate(first.refresh_token)
    assert retry.refresh_token == winner.refresh_token
    assert retry.access_token != winner.access_token
    assert tokens.decode_access(retry.access_token)["sid"] == str(first.session.pk)
    # The successor still works, and rotates on.
    assert sessions.rotate(winner.refresh_token).refresh_token != winner.refresh_token


def test_outside_the_grace_period_it_is_reuse(user: Any, settings: Any, clock: Any) -> None:
    settings.REFRESHAUTH = {"REUSE_GRACE_PERIOD": timedelta(seconds=10)}
    first = sessions.open_session(user)
    winner = sessions.rotate(first.refresh_token)
    clock.advance(timedelta(seconds=10))
    with pytest.raises(ReusedToken):
        sessions.rotate(first.refresh_token)
    with pytest.raises(RevokedToken):
        sessions.rotate(winner.refresh_token)


def test_grace_covers_only_the_immediately_previous_token(
    user: Any, settings: Any, clock: Any
) -> None:
    settings.REFRESHAUTH = {"REUSE_GRACE_PERIOD": timedelta(seconds=10)}
    first = sessions.open_session(user)
    second = sessions.rotate(first.refresh_token)
    sessions.rotate(second.refresh_token)
    with pytest.raises(ReusedToken):
        sessions.rotate(first.refresh_token)


def test_grace_retry_of_a_revoked_session_is_refused(user: Any, settings: Any) -> None:
    settings.REFRESHAUTH = {"REUSE_GRACE_PERIOD": timedelta(seconds=10)}
    first = sessions.open_session(user)
    sessions.rotate(first.refresh_token)
    sessions.revoke_token(first.refresh_token)
    with pytest.raises(RevokedToken):
        sessions.rotate(first.refresh_token)


def test_refresh_token_expires(user: Any, clock: Any) -> None:
    first = sessions.open_session(user)
    clock.advance(timedelta(days=7, seconds=1))
    with pytest.raises(ExpiredToken):
        sessions.rotate(first.refresh_token)


def test_leeway_accepts_a_token_just_past_exp(user: Any, settings: Any, clock: Any) -> None:
    settings.REFRESHAUTH = {"LEEWAY": timedelta(seconds=30)}
    first = sessions.open_session(user)
    clock.advance(timedelta(days=7, seconds=10))
    assert sessions.rotate(first.refresh_token).refresh_token
    late = sessions.open_session(user)
    clock.advance(timedelta(days=7, seconds=31))
    with pytest.raises(ExpiredToken):
        sessions.rotate(late.refresh_token)


def test_expires_in_counts_whole_seconds(user: Any, clock: Any) -> None:
    result = sessions.open_session(user)
    assert (result.expires_in, result.refresh_expires_in) == (900, 604800)
    access = tokens.decode_access(result.access_token)
    assert access["exp"] - access["iat"] == 900


def test_absolute_lifetime_is_never_extended_by_rotation(
    user: Any, settings: Any, clock: Any
) -> None:
    settings.REFRESHAUTH = {
        "REFRESH_TOKEN_LIFETIME": timedelta(days=2),
        "SESSION_MAX_LIFETIME": timedelta(days=3),
    }
    login_time = clock.now()
    current = sessions.open_session(user)
    for _ in range(2):
        clock.advance(timedelta(days=1))
        current = sessions.rotate(current.refresh_token)
    claims = tokens.decode_refresh(current.refresh_token).claims
    assert claims["exp"] == int((login_time + timedelta(days=3)).timestamp())
    assert current.refresh_expires_in == claims["exp"] - claims["iat"] == 86400
    clock.advance(timedelta(days=1, seconds=1))
    with pytest.raises(ExpiredToken):
        sessions.rotate(current.refresh_token)


def test_no_session_max_lifetime(user: Any, settings: Any, clock: Any) -> None:
    settings.REFRESHAUTH = {"SESSION_MAX_LIFETIME": None}
    current = sessions.open_session(user)
    for _ in range(6):
        clock.advance(timedelta(days=6))
        current = sessions.rotate(current.refresh_token)
    assert RefreshToken.objects.get().absolute_expires_at is None


def test_password_changed_with_queryset_update_ends_the_session(user: Any) -> None:
    result = sessions.open_session(user)
    get_user_model().objects.filter(pk=user.pk).update(password="md5$other$hash")
    with pytest.raises(RevokedToken):
        sessions.rotate(result.refresh_token)
    assert RefreshToken.objects.get().revoke_reason == RevokeReason.PASSWORD_CHANGE


def test_user_deactivated_with_queryset_update_ends_the_session(user: Any) -> None:
    result = sessions.open_session(user)
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(RevokedToken):
        sessions.rotate(result.refresh_token)
    assert RefreshToken.objects.get().revoke_reason == RevokeReason.DEACTIVATED


def test_deleted_user_answers_revoked(user: Any) -> None:
    result = sessions.open_session(user)
    user.delete()
    assert not RefreshToken.objects.exists()
    with pytest.raises(RevokedToken):
        sessions.rotate(result.refresh_token)


def test_a_token_of_another_user_for_this_session_is_invalid(user: Any) -> None:
    from tests.factories import UserFactory

    mallory = UserFactory(username="mallory")
    result = sessions.open_session(user)
    claims = tokens.decode_refresh(result.refresh_token).claims
    forged = tokens.encode(
        {**claims, "sub": str(mallory.pk)}, tokens.refresh_keys().current, tokens.REFRESH_TYP
    )
    with pytest.raises(InvalidToken):
        sessions.rotate(forged)


def test_successful_refresh_costs_two_queries(user: Any, django_assert_num_queries: Any) -> None:
    result = sessions.open_session(user)
    with django_assert_num_queries(2):
        sessions.rotate(result.refresh_token)


def test_login_costs_one_insert(user: Any, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        sessions.open_session(user)


def test_max_sessions_per_user_revokes_the_least_recently_used(
    user: Any, settings: Any, clock: Any
) -> None:
    settings.REFRESHAUTH = {"MAX_SESSIONS_PER_USER": 2}
    oldest = sessions.open_session(user)
    clock.advance(timedelta(minutes=1))
    middle = sessions.open_session(user)
    clock.advance(timedelta(minutes=1))
    sessions.rotate(oldest.refresh_token)  # now the most recently used
    clock.advance(timedelta(minutes=1))
    sessions.open_session(user)
    live = RefreshToken.objects.live()
    assert live.count() == 2
    assert not live.filter(pk=middle.session.pk).exists()
    assert (
        RefreshToken.objects.get(pk=middle.session.pk).revoke_reason == RevokeReason.SESSION_LIMIT
    )


def test_extra_claims_cannot_override_registered_claims(user: Any, settings: Any) -> None:
    settings.REFRESHAUTH = {"EXTRA_CLAIMS": "tests.test_sessions.extra_claims"}
    claims = tokens.decode_access(sessions.open_session(user).access_token)
    assert claims["role"] == "admin"
    assert claims["sub"] == str(user.pk)
    assert claims["exp"] - claims["iat"] == 900


def extra_claims(user: Any) -> dict[str, Any]:
    return {"role": "admin", "sub": "someone-else", "exp": 9999999999}


def test_user_id_field(user: Any, settings: Any) -> None:
    settings.REFRESHAUTH = {"USER_ID_FIELD": "username"}
    result = sessions.open_session(user)
    assert tokens.decode_access(result.access_token)["sub"] == "alice"
    assert (
        tokens.decode_refresh(sessions.rotate(result.refresh_token).refresh_token).claims["sub"]
        == "alice"
    )


def test_revoke_all_keeps_the_given_session(user: Any) -> None:
    keep = sessions.open_session(user)
    gone = sessions.open_session(user)
    assert sessions.revoke_all(user, keep=keep.session.pk) == 1
    with pytest.raises(RevokedToken):
        sessions.rotate(gone.refresh_token)
    sessions.rotate(keep.refresh_token)


def test_revoke_token_of_a_rotated_token_revokes_the_session(user: Any) -> None:
    first = sessions.open_session(user)
    second = sessions.rotate(first.refresh_token)
    assert sessions.revoke_token(first.refresh_token)
    with pytest.raises(RevokedToken):
        sessions.rotate(second.refresh_token)
    assert not sessions.revoke_token("not-a-token")


def test_package_reexports_the_api() -> None:
    import refreshauth

    assert refreshauth.open_session is sessions.open_session
    assert refreshauth.rotate is sessions.rotate
    with pytest.raises(AttributeError):
        refreshauth.nothing_here  # noqa: B018
