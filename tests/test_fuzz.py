"""Property-based attacks over the bodies and headers of every endpoint: never a 5xx, and
a failed request changes no row."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from refreshauth import sessions
from refreshauth.models import RefreshToken

from .factories import UserFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("post", "/api/auth/login/"),
    ("post", "/api/auth/refresh/"),
    ("post", "/api/auth/logout/"),
    ("post", "/api/auth/logout-all/"),
    ("get", "/api/auth/sessions/"),
    ("delete", "/api/auth/sessions/00000000-0000-0000-0000-000000000000/"),
    ("get", "/api/auth/csrf/"),
    ("get", "/api/auth/jwks/"),
    ("get", "/api/me/"),
]
FIELDS = ["username", "password", "refresh_token", "grant_type", "keep_current"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5).map(json.dumps),
    json_values.map(json.dumps),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "",
        "application/json; charset=utf-16",
    ]
)
header_values = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=300
)
authorizations = st.one_of(
    header_values,
    header_values.map(lambda v: f"Bearer {v}"),
    st.sampled_from(["Bearer", "Bearer ", "bearer a.b.c", "Basic Zm9vOmJhcg=="]),
)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def seeded(db: Any) -> Any:
    user = UserFactory(username="alice")
    return sessions.open_session(user)


def snapshot() -> list[dict[str, Any]]:
    return list(RefreshToken.objects.order_by("pk").values())


@FUZZ
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    body=bodies,
    content_type=content_types,
    authorization=authorizations,
    user_agent=header_values,
)
def test_never_a_server_error_and_failures_change_nothing(
    seeded: Any,
    endpoint: tuple[str, str],
    body: str,
    content_type: str,
    authorization: str,
    user_agent: str,
) -> None:
    method, path = endpoint
    before = snapshot()
    response = APIClient().generic(
        method.upper(),
        path,
        data=body.encode("utf-8", "surrogatepass"),
        content_type=content_type,
        HTTP_AUTHORIZATION=authorization,
        HTTP_USER_AGENT=user_agent,
        HTTP_X_FORWARDED_FOR=user_agent,
    )
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert snapshot() == before
        assert response["Content-Type"] == "application/json"


@FUZZ
@given(token=st.text(max_size=300), field=st.sampled_from(["refresh_token", "grant_type"]))
def test_refresh_and_logout_with_any_string(seeded: Any, token: str, field: str) -> None:
    before = snapshot()
    for path in ("/api/auth/refresh/", "/api/auth/logout/"):
        response = APIClient().post(path, {field: token}, format="json")
        assert response.status_code in (204, 400, 401), response.content[:300]
    assert snapshot() == before
