"""The precompiled hot queries answer exactly as the ORM would."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from refreshauth import queries, sessions
from refreshauth.models import RefreshToken

pytestmark = pytest.mark.django_db


def test_session_query_is_compiled_and_matches_the_orm(user: Any) -> None:
    sessions._session_query.cache_clear()
    compiled = sessions._session_query("default")
    assert compiled is not None
    opened = sessions.open_session(user).session
    fast = compiled.fetch(opened.pk, "default")
    orm = RefreshToken.objects.select_related("user").get(pk=opened.pk)
    assert fast is not None
    for field in RefreshToken._meta.concrete_fields:
        assert getattr(fast, field.attname) == getattr(orm, field.attname), field.name
    assert fast.user == orm.user and fast.user.password == orm.user.password
    assert fast.user.date_joined == orm.user.date_joined


@pytest.mark.parametrize("value", [uuid.uuid4(), "not-a-uuid", "", 12])
def test_session_query_without_a_row_is_none(user: Any, value: Any) -> None:
    compiled = sessions._session_query("default")
    assert compiled is not None
    assert compiled.fetch(value, "default") is None


def test_update_is_conditional_and_prepares_values(user: Any) -> None:
    session = sessions.open_session(user).session
    later = timezone.now() + timedelta(days=3)
    where = [("id", "=", session.pk), ("jti_hash", "=", "not-the-hash")]
    values = {"ip_address": "2001:db8::7", "expires_at": later, "user_agent": "ua"}
    assert queries.update(RefreshToken, values, where, "default") == 0
    where = [
        ("id", "=", session.pk),
        ("jti_hash", "=", session.jti_hash),
        ("revoked_at", "IS NULL", None),
        ("expires_at", ">", timezone.now()),
    ]
    assert queries.update(RefreshToken, values, where, "default") == 1
    row = RefreshToken.objects.get(pk=session.pk)
    assert (row.ip_address, row.expires_at, row.user_agent) == ("2001:db8::7", later, "ua")
    sessions.revoke(row)
    assert queries.update(RefreshToken, values, where, "default") == 0
