"""Concurrent rotations of one refresh token, in-process with a connection per thread."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from refreshauth import sessions
from refreshauth.exceptions import RefreshAuthError
from refreshauth.models import RefreshToken
from refreshauth.signals import refresh_token_reused

from .conftest import RACE_ROUNDS
from .factories import UserFactory

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

THREADS = 32
ROUNDS = RACE_ROUNDS


def race(token: str) -> list[Any]:
    barrier = threading.Barrier(THREADS)

    def one(_: int) -> Any:
        try:
            barrier.wait()
            return sessions.rotate(token)
        except RefreshAuthError as exc:
            return exc.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(one, range(THREADS)))


def test_at_most_one_rotation_wins() -> None:
    user = UserFactory(username="racer")
    alarms: list[Any] = []

    def alarm(session: Any, **kwargs: Any) -> None:
        alarms.append(session.pk)

    refresh_token_reused.connect(alarm)
    winners = []
    try:
        for _ in range(ROUNDS):
            results = race(sessions.open_session(user).refresh_token)
            outcomes = Counter(r if isinstance(r, str) else "ok" for r in results)
            assert set(outcomes) <= {"ok", "token_reused", "token_revoked"}, outcomes
            winners.append(outcomes["ok"])
    finally:
        refresh_token_reused.disconnect(alarm)
    assert max(winners) <= 1, winners
    # Every round detected the race as reuse, revoked its session, and raised one alarm.
    reused = RefreshToken.objects.filter(revoke_reason="reuse")
    assert reused.count() == ROUNDS
    assert sorted(alarms) == sorted(reused.values_list("pk", flat=True))


def test_with_a_grace_period_every_winner_gets_the_same_successor(settings: Any) -> None:
    settings.REFRESHAUTH = {"REUSE_GRACE_PERIOD": timedelta(seconds=30)}
    user = UserFactory(username="tabs")
    for _ in range(ROUNDS):
        results = race(sessions.open_session(user).refresh_token)
        assert all(isinstance(r, sessions.TokenResponse) for r in results), results
        assert len({r.refresh_token for r in results}) == 1
    assert not RefreshToken.objects.filter(revoked_at__isnull=False).exists()
