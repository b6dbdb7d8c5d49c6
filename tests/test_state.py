"""The session-state cache: the cache answers, the database decides.

Each test attacks the cache the way deployments lose it (a flush, an eviction, an outage
at the moment of the revocation, a race between a read and a revocation) and checks that
a revoked session's access token is never accepted longer than the SPEC allows.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import caches
from django.db import transaction
from rest_framework.test import APIClient

from refreshauth import sessions, state
from refreshauth.models import RefreshToken

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def me(api: APIClient, token: str) -> Any:
    return api.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {token}")


def refused(response: Any) -> bool:
    return response.status_code == 401 and response.json()["code"] == "token_revoked"


@pytest.fixture
def opened(user: Any) -> sessions.TokenResponse:
    return sessions.open_session(user)


@pytest.fixture
def local_clock_cache(settings: Any) -> None:
    """Tests that move the clock to expire a key need a cache that reads the same clock:
    a Redis server counts its TTLs in its own time, which time-machine cannot move."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "clock",
        }
    }


def test_revoked_session_refused_after_the_cache_is_flushed(
    api: APIClient, opened: Any, django_capture_on_commit_callbacks: Any
) -> None:
    assert me(api, opened.access_token).status_code == 200  # the cache says "live"
    with django_capture_on_commit_callbacks(execute=True):
        sessions.revoke_token(opened.refresh_token)
    for cache in caches.all():
        cache.clear()  # a Redis restart without persistence
    assert refused(me(api, opened.access_token))


def test_revoked_session_refused_when_its_key_was_evicted(
    api: APIClient, opened: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sessions.revoke_token(opened.refresh_token)
    caches["default"].delete(f"{state.KEY_PREFIX}{opened.session.pk}")
    assert refused(me(api, opened.access_token))


@pytest.mark.usefixtures("local_clock_cache")
def test_revocation_with_the_cache_down_is_honoured_within_the_ttl(
    clock: Any,
    api: APIClient,
    opened: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    assert me(api, opened.access_token).status_code == 200  # "live" cached
    with monkeypatch.context() as patch:
        patch.setattr(
            type(caches["default"]),
            "set_many",
            lambda *a, **k: (_ for _ in ()).throw(ConnectionError("down")),
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert sessions.revoke_token(opened.refresh_token)
    assert RefreshToken.objects.get().revoked_at is not None  # the database has it
    # The lost write: the cache still vouches for the session, for SESSION_CACHE_TTL.
    assert me(api, opened.access_token).status_code == 200
    clock.advance(timedelta(minutes=1, seconds=1))
    assert refused(me(api, opened.access_token))


def test_a_cache_failure_at_revocation_never_stops_later_on_commit_hooks(
    opened: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    monkeypatch.setattr(
        type(caches["default"]),
        "set_many",
        lambda *a, **k: (_ for _ in ()).throw(ConnectionError("down")),
    )
    ran: list[str] = []
    with django_capture_on_commit_callbacks(execute=True):
        sessions.revoke_token(opened.refresh_token)
        transaction.on_commit(lambda: ran.append("project hook"))
    assert ran == ["project hook"]


def test_a_revocation_racing_a_cache_miss_is_not_overwritten_with_live(
    api: APIClient, opened: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The miss read the row before the revocation committed and wrote "revoked"; the
    miss's "live" must not replace it."""
    original = state._session_exists_unrevoked

    def read_then_revoke(sid: Any) -> bool:
        answer = original(sid)
        with transaction.atomic():
            sessions.revoke_token(opened.refresh_token)
        state._write_revoked([f"{state.KEY_PREFIX}{sid}"])  # its on_commit write
        return answer

    monkeypatch.setattr(state, "_session_exists_unrevoked", read_then_revoke)
    assert me(api, opened.access_token).status_code == 200  # answered from the old read
    monkeypatch.setattr(state, "_session_exists_unrevoked", original)
    assert refused(me(api, opened.access_token))


def test_a_flood_of_rate_limit_keys_cannot_revive_a_revoked_token(
    api: APIClient, opened: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "tiny",
            "OPTIONS": {"MAX_ENTRIES": 5},
        }
    }
    with django_capture_on_commit_callbacks(execute=True):
        sessions.revoke_token(opened.refresh_token)
    for i in range(30):  # failed logins with random usernames cull the cache
        api.post("/api/auth/login/", {"username": f"nobody{i}", "password": "x"}, format="json")
    assert refused(me(api, opened.access_token))


def test_deleting_a_session_row_kills_its_access_tokens(
    api: APIClient, opened: Any, django_capture_on_commit_callbacks: Any
) -> None:
    assert me(api, opened.access_token).status_code == 200  # "live" cached
    with django_capture_on_commit_callbacks(execute=True):
        RefreshToken.objects.filter(pk=opened.session.pk).delete()
    assert refused(me(api, opened.access_token))


def test_a_session_row_gone_without_a_signal_is_revoked_for_its_tokens(
    api: APIClient, opened: Any
) -> None:
    RefreshToken.objects.filter(pk=opened.session.pk)._raw_delete(  # type: ignore[attr-defined]
        "default"
    )
    assert refused(me(api, opened.access_token))


def test_deleting_the_user_kills_its_access_tokens_even_with_live_cached(
    api: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    bob = UserFactory(username="bob")
    opened = sessions.open_session(bob)
    assert me(api, opened.access_token).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        bob.delete()
    assert me(api, opened.access_token).status_code == 401
    assert caches["default"].get(f"{state.KEY_PREFIX}{opened.session.pk}") == state.REVOKED


@pytest.mark.usefixtures("local_clock_cache")
def test_a_live_answer_is_remembered_for_the_ttl_only(
    clock: Any, opened: Any, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.REFRESHAUTH = {"SESSION_CACHE_TTL": timedelta(seconds=30)}
    sid = str(opened.session.pk)
    with django_assert_num_queries(1):
        assert state.is_revoked(sid) is False
    with django_assert_num_queries(0):
        assert state.is_revoked(sid) is False
    clock.advance(timedelta(seconds=31))
    with django_assert_num_queries(1):
        assert state.is_revoked(sid) is False


@pytest.mark.usefixtures("local_clock_cache")
def test_a_revoked_answer_outlives_the_last_access_token(
    clock: Any, opened: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sessions.revoke(opened.session)
    key = f"{state.KEY_PREFIX}{opened.session.pk}"
    clock.advance(timedelta(minutes=15))
    assert caches["default"].get(key) == state.REVOKED


def test_a_session_id_that_is_no_uuid_is_invalid() -> None:
    from refreshauth.exceptions import InvalidToken

    with pytest.raises(InvalidToken):
        state.is_revoked("not-a-uuid")
