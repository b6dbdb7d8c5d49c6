from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest
import time_machine
from django.core.cache import caches
from rest_framework.test import APIClient

from refreshauth import sessions

from .factories import PASSWORD, UserFactory

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))
ON_MYSQL = os.environ.get("DATABASE_URL", "").startswith(("mysql", "mariadb"))
# Rounds of the races of one refresh token: SQLite serialises writers, so fewer suffice.
RACE_ROUNDS = 20 if ON_POSTGRES or ON_MYSQL else 5


@pytest.fixture(autouse=True)
def _clear_caches() -> Iterator[None]:
    for cache in caches.all():
        cache.clear()
    yield


@pytest.fixture
def break_cache(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make a method of the default cache's backend fail as a server that is down does."""
    from django.core.cache import caches

    def breaker(method: str) -> None:
        def broken(*args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("cache down")

        monkeypatch.setattr(type(caches["default"]), method, broken)

    return breaker


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db: Any) -> Any:
    return UserFactory(username="alice")


@pytest.fixture
def password() -> str:
    return PASSWORD


class Clock:
    """Moves time for Django, PyJWT and refreshauth alike, without sleeping."""

    def __init__(self, traveller: Any) -> None:
        self._traveller = traveller

    def advance(self, delta: timedelta) -> None:
        self._traveller.shift(delta)

    def now(self) -> datetime:
        return datetime.now(tz=dt_timezone.utc)


@pytest.fixture
def clock() -> Iterator[Clock]:
    start = datetime(2030, 1, 1, 12, 0, 0, tzinfo=dt_timezone.utc)
    with time_machine.travel(start, tick=False) as traveller:
        yield Clock(traveller)


@pytest.fixture
def login(api: APIClient, user: Any) -> Any:
    """Log ``user`` in over HTTP; returns a function giving the token response body."""

    def do(username: str = "alice", password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
        response = api.post(
            "/api/auth/login/",
            {"username": username, "password": password},
            format="json",
            **extra,
        )
        assert response.status_code == 200, response.content
        return dict(response.json())

    return do


@pytest.fixture
def tokens_for(user: Any) -> Any:
    """Open a session for a user through the Python API."""

    def do(u: Any = None) -> sessions.TokenResponse:
        return sessions.open_session(u or user)

    return do
