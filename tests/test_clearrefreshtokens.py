"""clearrefreshtokens: deletes only what can never be used again, in batches."""

from __future__ import annotations

import threading
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from refreshauth import sessions
from refreshauth.exceptions import ReusedToken
from refreshauth.models import RefreshToken

from .factories import RefreshTokenFactory, UserFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("clearrefreshtokens", *args, stdout=out)
    return out.getvalue()


def test_deletes_expired_keeps_live_and_revoked_unexpired(user: Any) -> None:
    live = RefreshTokenFactory(user=user)
    revoked = RefreshTokenFactory(user=user, revoked=True)
    RefreshTokenFactory.create_batch(3, user=user, expired=True)
    RefreshTokenFactory(user=user, expired=True, revoked=True)
    assert run() == "Deleted 4 expired refresh token rows.\n"
    assert set(RefreshToken.objects.values_list("pk", flat=True)) == {live.pk, revoked.pk}
    assert run() == "Deleted 0 expired refresh token rows.\n"


def test_past_absolute_end_is_deleted(user: Any) -> None:
    past = timezone.now() - timedelta(days=1)
    RefreshTokenFactory(user=user, expires_at=past, absolute_expires_at=past)
    assert run() == "Deleted 1 expired refresh token rows.\n"


def test_row_kept_while_its_last_access_token_may_live(user: Any, clock: Any) -> None:
    """A session that just expired may have issued an access token a moment before: its
    row is what refuses that token once the user is logged out everywhere."""
    tokens = sessions.open_session(user)
    row = RefreshToken.objects.get()
    clock.advance(row.expires_at - clock.now() + timedelta(seconds=1))
    assert run() == "Deleted 0 expired refresh token rows.\n"
    clock.advance(timedelta(minutes=15))
    assert run() == "Deleted 1 expired refresh token rows.\n"
    assert tokens.access_token  # the token whose row was kept


def test_dry_run_deletes_nothing(user: Any) -> None:
    RefreshTokenFactory.create_batch(2, user=user, expired=True)
    assert run("--dry-run") == "Would delete 2 expired refresh token rows.\n"
    assert RefreshToken.objects.count() == 2


def test_verbosity(user: Any) -> None:
    RefreshTokenFactory.create_batch(5, user=user, expired=True)
    assert run("-v", "0", "--dry-run") == ""
    out = run("-v", "2", "--batch-size", "2")
    assert out.splitlines() == [
        "Deleted a batch of 2 rows.",
        "Deleted a batch of 2 rows.",
        "Deleted a batch of 1 rows.",
        "Deleted 5 expired refresh token rows.",
    ]


@pytest.mark.parametrize("value", ["0", "-5"])
def test_bad_batch_size_is_a_command_error(value: str) -> None:
    with pytest.raises(CommandError, match="--batch-size"):
        run("--batch-size", value)


def test_reuse_detection_survives_a_cleanup(user: Any) -> None:
    first = sessions.open_session(user)
    sessions.rotate(first.refresh_token)
    run()
    with pytest.raises(ReusedToken):
        sessions.rotate(first.refresh_token)


def test_a_large_cleanup_runs_in_batches(user: Any) -> None:
    now = timezone.now()
    expired = now - timedelta(days=1)
    RefreshToken.objects.bulk_create(
        [
            RefreshToken(user=user, jti_hash=f"{i:064x}", expires_at=expired)
            for i in range(100_000)
        ],
        batch_size=5000,
    )
    RefreshTokenFactory(user=user)
    batches: list[int] = []
    with CaptureQueriesContext(connection) as queries:
        total = sessions.clear_expired(batch_size=10_000, on_batch=batches.append)
    assert total == 100_000
    assert batches == [10_000] * 10
    deletes = [q for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 10
    assert RefreshToken.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_delete_each_row_once(settings: Any) -> None:
    user = UserFactory(username="bulk")
    RefreshToken.objects.bulk_create(
        [
            RefreshToken(user=user, jti_hash=f"{i:064x}", expires_at=timezone.now() - timedelta(1))
            for i in range(3000)
        ]
    )
    keep = RefreshTokenFactory(user=user)
    totals: list[int] = []
    errors: list[BaseException] = []

    def clear() -> None:
        try:
            totals.append(sessions.clear_expired(batch_size=100))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=clear) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(totals) == 3000
    assert list(RefreshToken.objects.values_list("pk", flat=True)) == [keep.pk]


def test_cleanup_while_sessions_refresh(user: Any) -> None:
    live = sessions.open_session(user)
    RefreshTokenFactory.create_batch(10, user=user, expired=True)
    rotated = sessions.rotate(live.refresh_token)
    run("--batch-size", "3")
    assert sessions.rotate(rotated.refresh_token).access_token
