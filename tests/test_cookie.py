"""Cookie transport: the refresh token lives in an HttpOnly cookie behind Django's CSRF check."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from refreshauth.models import RefreshToken

from .factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN, REFRESH, LOGOUT, CSRF = (
    "/api/auth/login/",
    "/api/auth/refresh/",
    "/api/auth/logout/",
    "/api/auth/csrf/",
)


@pytest.fixture(autouse=True)
def cookie_transport(settings: Any) -> None:
    settings.REFRESHAUTH = {"REFRESH_TOKEN_TRANSPORT": "cookie"}


@pytest.fixture
def browser() -> APIClient:
    return APIClient(enforce_csrf_checks=True)


def csrf(client: APIClient) -> dict[str, str]:
    if "csrftoken" not in client.cookies:
        assert client.get(CSRF).status_code == 204
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def log_in(client: APIClient) -> Any:
    response = client.post(
        LOGIN, {"username": "alice", "password": PASSWORD}, format="json", **csrf(client)
    )
    assert response.status_code == 200, response.content
    return response


def test_login_sets_the_cookie_and_leaves_it_out_of_the_body(
    browser: APIClient, user: Any
) -> None:
    before = csrf(browser)["HTTP_X_CSRFTOKEN"]
    response = log_in(browser)
    assert "refresh_token" not in response.json()
    assert response.json()["refresh_expires_in"] == 604800
    cookie = response.cookies["refresh_token"]
    assert cookie["httponly"] and cookie["secure"]
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/api/auth/"
    assert cookie["max-age"] == 604800
    # The CSRF token is rotated at login, as django.contrib.auth.login() does.
    assert response.cookies["csrftoken"].value != before


def test_refresh_reads_the_cookie(browser: APIClient, user: Any) -> None:
    first = log_in(browser).cookies["refresh_token"].value
    response = browser.post(REFRESH, format="json", **csrf(browser))
    assert response.status_code == 200, response.content
    second = response.cookies["refresh_token"].value
    assert second != first
    assert "refresh_token" not in response.json()


def test_token_in_the_body_is_ignored(browser: APIClient, user: Any, api: APIClient) -> None:
    token = log_in(browser).cookies["refresh_token"].value
    stranger = APIClient(enforce_csrf_checks=True)
    response = stranger.post(REFRESH, {"refresh_token": token}, format="json", **csrf(stranger))
    assert response.status_code == 400
    assert "refresh_token" in response.json()


def test_refresh_without_csrf_header_is_refused_and_changes_nothing(
    browser: APIClient, user: Any
) -> None:
    log_in(browser)
    before = list(RefreshToken.objects.values())
    response = browser.post(REFRESH, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert list(RefreshToken.objects.values()) == before


def test_cross_site_origin_is_refused(browser: APIClient, user: Any) -> None:
    log_in(browser)
    before = list(RefreshToken.objects.values())
    response = browser.post(
        REFRESH, format="json", HTTP_ORIGIN="https://evil.example", **csrf(browser)
    )
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert list(RefreshToken.objects.values()) == before


def test_login_csrf_is_refused(browser: APIClient, user: Any) -> None:
    # A cross-site form that would log the victim into the attacker's account.
    response = browser.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert not RefreshToken.objects.exists()


def test_logout_csrf_is_refused(browser: APIClient, user: Any) -> None:
    log_in(browser)
    assert browser.post(LOGOUT, format="json").status_code == 403
    assert RefreshToken.objects.live().count() == 1


def test_logout_revokes_and_deletes_the_cookie(browser: APIClient, user: Any) -> None:
    log_in(browser)
    response = browser.post(LOGOUT, format="json", **csrf(browser))
    assert response.status_code == 204
    cookie = response.cookies["refresh_token"]
    assert cookie.value == ""
    assert cookie["max-age"] == 0
    assert cookie["path"] == "/api/auth/" and cookie["secure"] and cookie["httponly"]
    assert RefreshToken.objects.live().count() == 0


def test_logout_without_a_cookie_is_400(browser: APIClient) -> None:
    assert browser.post(LOGOUT, format="json", **csrf(browser)).status_code == 400


def test_cookie_settings(browser: APIClient, user: Any, settings: Any) -> None:
    settings.REFRESHAUTH = {
        "REFRESH_TOKEN_TRANSPORT": "cookie",
        "REFRESH_COOKIE_NAME": "__Host-rt",
        "REFRESH_COOKIE_PATH": "/",
        "REFRESH_COOKIE_SAMESITE": "Lax",
        "REFRESH_COOKIE_DOMAIN": None,
    }
    cookie = log_in(browser).cookies["__Host-rt"]
    assert (cookie["path"], cookie["samesite"], cookie["domain"]) == ("/", "Lax", "")


def test_max_age_is_the_remaining_life(
    browser: APIClient, user: Any, settings: Any, clock: Any
) -> None:
    from datetime import timedelta

    settings.REFRESHAUTH = {
        "REFRESH_TOKEN_TRANSPORT": "cookie",
        "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
        "SESSION_MAX_LIFETIME": timedelta(days=8),
    }
    log_in(browser)
    clock.advance(timedelta(days=6))
    response = browser.post(REFRESH, format="json", **csrf(browser))
    assert response.cookies["refresh_token"]["max-age"] == 2 * 86400


def test_a_cookie_mount_beside_the_body_mount(settings: Any, user: Any) -> None:
    """The example project serves body transport at api/auth/ and cookie transport at
    demo/auth/ (refreshauth.urls.patterns("cookie")), whatever the setting says."""
    settings.REFRESHAUTH = {}
    body = APIClient().post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json")
    assert "refresh_token" in body.json() and "refresh_token" not in body.cookies
    browser = APIClient(enforce_csrf_checks=True)
    browser.get("/demo/auth/csrf/")
    token = browser.cookies["csrftoken"].value
    cookie = browser.post(
        "/demo/auth/login/",
        {"username": "alice", "password": PASSWORD},
        format="json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert cookie.status_code == 200
    assert "refresh_token" not in cookie.json()
    assert cookie.cookies["refresh_token"]["path"] == "/demo/auth/"
    assert browser.post("/demo/auth/refresh/", format="json").status_code == 403
