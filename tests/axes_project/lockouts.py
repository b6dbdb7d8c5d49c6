"""refreshauth's login/ under django-axes: counted, locked out, and answered in
refreshauth's JSON shape. Run by tests/test_axes.py with
``--ds tests.axes_project.settings``."""

from __future__ import annotations

from typing import Any

import pytest
from axes.models import AccessAttempt
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory

LOGIN = "/api/auth/login/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(db: Any) -> Any:
    return UserFactory(username="ann")


def login(api: APIClient, password: str, username: str = "ann", **extra: Any) -> Any:
    return api.post(LOGIN, {"username": username, "password": password}, format="json", **extra)


def assert_json(answer: Any, status: int, code: str) -> None:
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"] == "application/json"
    assert set(answer.json()) == {"detail", "code"}
    assert answer.json()["code"] == code


def test_failures_are_counted_by_axes(api: APIClient, ann: Any) -> None:
    for _ in range(2):
        assert_json(login(api, "wrong"), 401, "invalid_credentials")
    attempt = AccessAttempt.objects.get(username="ann")
    assert attempt.failures_since_start == 2


def test_the_limit_locks_out_with_refreshauths_429(api: APIClient, ann: Any) -> None:
    for _ in range(2):
        assert_json(login(api, "wrong"), 401, "invalid_credentials")
    locked = login(api, "wrong")  # the third failure reaches AXES_FAILURE_LIMIT
    assert_json(locked, 429, "rate_limited")
    assert locked["Retry-After"] == "600"  # AXES_COOLOFF_TIME
    # The right password changes nothing while the lock holds: no tokens, no session.
    right = login(api, PASSWORD)
    assert_json(right, 429, "rate_limited")
    assert "access_token" not in right.json()
    # Also for a client that asks for HTML, or says it is an XMLHttpRequest.
    assert_json(login(api, PASSWORD, HTTP_ACCEPT="text/html"), 429, "rate_limited")
    assert_json(login(api, PASSWORD, HTTP_X_REQUESTED_WITH="XMLHttpRequest"), 429, "rate_limited")


def test_the_lock_is_per_username_and_address(api: APIClient, ann: Any) -> None:
    UserFactory(username="bob")
    for _ in range(3):
        login(api, "wrong")
    assert login(api, PASSWORD, username="bob").status_code == 200
    assert login(api, PASSWORD, REMOTE_ADDR="10.0.0.2").status_code == 200


def test_a_success_resets_the_count(api: APIClient, ann: Any) -> None:
    for _ in range(2):
        login(api, "wrong")
    assert login(api, PASSWORD).status_code == 200
    for _ in range(2):
        assert_json(login(api, "wrong"), 401, "invalid_credentials")


def test_a_permanent_lock_still_answers_json(api: APIClient, ann: Any, settings: Any) -> None:
    settings.AXES_COOLOFF_TIME = None
    for _ in range(3):
        login(api, "wrong")
    locked = login(api, PASSWORD)
    assert_json(locked, 429, "rate_limited")
    assert locked["Retry-After"] == str(24 * 3600)


def test_refreshauths_own_limit_trips_first_when_lower(
    api: APIClient, ann: Any, settings: Any
) -> None:
    settings.REFRESHAUTH = {"LOGIN_RATE": "2/m"}
    for _ in range(2):
        assert_json(login(api, "wrong"), 401, "invalid_credentials")
    limited = login(api, "wrong")
    assert_json(limited, 429, "rate_limited")
    assert 1 <= int(limited["Retry-After"]) <= 60
    # refreshauth refused before the password check: axes saw two failures, not three.
    assert AccessAttempt.objects.get(username="ann").failures_since_start == 2


def test_other_pages_keep_axes_answer(ann: Any) -> None:
    from django.test import Client

    client = Client()
    for _ in range(3):
        client.post("/admin/login/", {"username": "ann", "password": "wrong"})
    page = client.post("/admin/login/", {"username": "ann", "password": PASSWORD})
    assert page.status_code == 429
    assert page["Content-Type"].startswith("text/html")


def test_without_refreshauths_middleware_axes_answers_its_page(settings: Any, ann: Any) -> None:
    """Why LockoutMiddleware is there: axes' own lockout answer is not JSON."""
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "refreshauth.contrib.axes.LockoutMiddleware"
    ]
    api = APIClient()
    for _ in range(3):
        login(api, "wrong")
    page = login(api, PASSWORD)
    assert page.status_code == 429
    assert not page["Content-Type"].startswith("application/json")
