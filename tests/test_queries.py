"""The precompiled statements answer exactly as the ORM does, and the ORM answers
instead whenever REFRESHAUTH_ORM_ONLY is set (the suite runs once each way)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from refreshauth import queries, sessions
from refreshauth.models import RefreshToken

pytestmark = pytest.mark.django_db


def fields(instance: Any) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


@pytest.fixture(params=["fast", "orm"])
def mode(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "orm":
        monkeypatch.setenv(queries.ORM_ONLY_ENV, "1")
    else:
        monkeypatch.delenv(queries.ORM_ONLY_ENV, raising=False)
    return str(request.param)


def test_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(queries.ORM_ONLY_ENV, raising=False)
    assert queries.fast()
    monkeypatch.setenv(queries.ORM_ONLY_ENV, "1")
    assert not queries.fast()


def test_a_session_with_its_user_equals_the_orms(user: Any, mode: str) -> None:
    opened = sessions.open_session(user).session
    got = queries.select_one(RefreshToken.objects.using("default"), "pk", opened.pk, join="user")
    orm = RefreshToken.objects.select_related("user").get(pk=opened.pk)
    assert fields(got) == fields(orm)
    assert fields(got.user) == fields(orm.user)
    assert got._state.db == "default" and got._state.adding is False
    assert got.user._state.db == "default"
    with django_no_queries():
        assert got.user.username == "alice"  # attached, not fetched again


class django_no_queries:
    def __enter__(self) -> None:
        from django.test.utils import CaptureQueriesContext

        self.context = CaptureQueriesContext(connection)
        self.context.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self.context.__exit__(*exc)
        assert len(self.context) == 0, self.context.captured_queries


@pytest.mark.parametrize("value", [uuid.uuid4(), "not-a-uuid", "", 12, None])
def test_no_row_is_none(user: Any, mode: str, value: Any) -> None:
    sessions.open_session(user)
    assert (
        queries.select_one(RefreshToken.objects.using("default"), "pk", value, join="user") is None
    )


class RefusingRouter:
    """A router that refuses relations across databases, as multi-tenant setups do."""

    def allow_relation(self, a: Any, b: Any, **hints: Any) -> bool:
        return False


def test_the_joined_user_is_attached_as_the_orm_does(user: Any, mode: str) -> None:
    """The ORM caches a select_related object on the relation without consulting
    router.allow_relation(); so must the fast path."""
    opened = sessions.open_session(user).session
    with override_settings(DATABASE_ROUTERS=[f"{__name__}.RefusingRouter"]):
        got = queries.select_one(
            RefreshToken.objects.using("default"), "pk", opened.pk, join="user"
        )
    assert got.user.pk == user.pk


def test_compiled_statements_are_per_connection(user: Any) -> None:
    """Each thread has its own connection, and so its own compiled statements."""
    from django.db import connections

    opened = sessions.open_session(user).session
    queries.select_one(RefreshToken.objects.using("default"), "pk", opened.pk, join="user")
    mine = queries._compiled.get(connections["default"])
    assert mine
    seen: list[Any] = []

    def other_thread() -> None:
        try:
            seen.append(queries._compiled.get(connections["default"]))
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen == [None]


def test_the_conditional_update_equals_the_orms(user: Any, mode: str) -> None:
    session = sessions.open_session(user).session
    later = timezone.now() + timedelta(days=3)
    values = {"ip_address": "2001:db8::7", "expires_at": later, "user_agent": "ua"}

    def update(jti_hash: str) -> int:
        return queries.update_where(
            RefreshToken,
            "default",
            values,
            equal={"pk": session.pk, "jti_hash": jti_hash},
            null=("revoked_at",),
            greater={"expires_at": timezone.now()},
        )

    assert update("not-the-hash") == 0
    assert update(session.jti_hash) == 1
    row = RefreshToken.objects.get(pk=session.pk)
    assert (row.ip_address, row.expires_at, row.user_agent) == ("2001:db8::7", later, "ua")
    sessions.revoke(row)
    assert update(session.jti_hash) == 0


def test_a_rotation_keeps_the_row_in_memory_equal_to_the_database(user: Any, mode: str) -> None:
    opened = sessions.open_session(user)
    rotated = sessions.rotate(opened.refresh_token, client=sessions.ClientInfo("192.0.2.8", "b"))
    assert fields(rotated.session) == fields(RefreshToken.objects.get())
