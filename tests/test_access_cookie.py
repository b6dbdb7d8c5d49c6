"""Both tokens in cookies (SPEC section 5, the backend-for-frontend shape): login/ and
refresh/ set the access cookie and leave both tokens out of the body; the authentication
class reads the cookie of a request without an Authorization header, behind Django's
CSRF check for unsafe methods; logout and logout-all delete both cookies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from refreshauth import sessions
from refreshauth.authentication import AccessTokenAuthentication
from refreshauth.models import RefreshToken, RevokeReason
from refreshauth.urls import patterns

from .factories import PASSWORD, UserFactory
from .test_dpop_sessions import Key
from .urls import urlpatterns as test_urlpatterns


class ProfileView(APIView):
    """A project's own endpoint that changes the user on every unsafe method."""

    authentication_classes = [AccessTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({"first_name": request.user.first_name})

    def change(self, request: Request) -> Response:
        request.user.first_name = f"changed by {request.method}"
        request.user.save(update_fields=["first_name"])
        return Response({"first_name": request.user.first_name})

    post = put = patch = delete = change


# This module is the tests' URLconf (pytest.mark.urls below): the example project's, with
# the BFF mount at bff/auth/, and the endpoint above.
urlpatterns = [path("profile/", ProfileView.as_view()), *test_urlpatterns]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

AUTH = "/api/auth/"
LOGIN, REFRESH, LOGOUT, LOGOUT_ALL, SESSIONS, CSRF = (
    f"{AUTH}{name}/" for name in ("login", "refresh", "logout", "logout-all", "sessions", "csrf")
)
ME, PROFILE = "/api/me/", "/profile/"
BOTH_COOKIES = {"REFRESH_TOKEN_TRANSPORT": "cookie", "ACCESS_TOKEN_TRANSPORT": "cookie"}


@pytest.fixture(autouse=True)
def both_cookies(settings: Any) -> None:
    settings.REFRESHAUTH = dict(BOTH_COOKIES)


@pytest.fixture
def browser() -> APIClient:
    return APIClient(enforce_csrf_checks=True)


def csrf(client: APIClient, prefix: str = AUTH) -> dict[str, str]:
    if "csrftoken" not in client.cookies:
        assert client.get(f"{prefix}csrf/").status_code == 204
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def log_in(client: APIClient, prefix: str = AUTH, **extra: Any) -> Any:
    response = client.post(
        f"{prefix}login/",
        {"username": "alice", "password": PASSWORD},
        format="json",
        **csrf(client, prefix),
        **extra,
    )
    assert response.status_code == 200, response.content
    return response


def live_sessions() -> int:
    return RefreshToken.objects.live().count()


def assert_deleted(cookie: Any, path: str) -> None:
    assert cookie.value == ""
    assert cookie["max-age"] == 0
    assert cookie["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert cookie["path"] == path
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Strict"


# --- login and refresh set the cookie ----------------------------------------------


def test_login_sets_both_cookies_and_leaves_both_tokens_out_of_the_body(
    browser: APIClient, user: Any
) -> None:
    response = log_in(browser)
    assert response.json() == {
        "token_type": "Bearer",
        "expires_in": 900,
        "refresh_expires_in": 604800,
    }
    assert response["Cache-Control"] == "no-store"
    access = response.cookies["access_token"]
    assert access["httponly"] and access["secure"]
    assert access["samesite"] == "Strict"
    assert access["path"] == "/"
    assert access["domain"] == ""
    assert access["max-age"] == 900
    refresh = response.cookies["refresh_token"]
    assert refresh["path"] == AUTH and refresh["max-age"] == 604800
    assert access.value != refresh.value


def test_the_access_cookie_follows_the_cookie_settings(
    browser: APIClient, user: Any, settings: Any
) -> None:
    settings.REFRESHAUTH = {
        **BOTH_COOKIES,
        "ACCESS_COOKIE_NAME": "at",
        "ACCESS_COOKIE_PATH": "/api/",
        "REFRESH_COOKIE_SAMESITE": "Lax",
        "REFRESH_COOKIE_DOMAIN": "testserver.local",
        "REFRESH_COOKIE_SECURE": False,
        "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    }
    response = log_in(browser)
    access = response.cookies["at"]
    assert (access["path"], access["samesite"], access["domain"]) == (
        "/api/",
        "Lax",
        "testserver.local",
    )
    assert access["httponly"] and not access["secure"]
    assert access["max-age"] == 300 == response.json()["expires_in"]
    assert "access_token" not in response.cookies


def test_refresh_renews_the_access_cookie(browser: APIClient, user: Any) -> None:
    first = log_in(browser).cookies["access_token"].value
    response = browser.post(REFRESH, format="json", **csrf(browser))
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"token_type", "expires_in", "refresh_expires_in"}
    second = response.cookies["access_token"]
    assert second.value != first and second["max-age"] == 900 and second["path"] == "/"
    me = browser.get(ME)
    assert (me.status_code, me.json()["username"]) == (200, "alice")


def test_the_refresh_token_in_the_cookie_alone_is_used(browser: APIClient, user: Any) -> None:
    log_in(browser)
    browser.cookies["refresh_token"] = "not-a-token"
    response = browser.post(REFRESH, format="json", **csrf(browser))
    assert (response.status_code, response.json()["code"]) == (401, "token_invalid")


# --- the authentication class reads the cookie -------------------------------------


def test_safe_methods_need_no_csrf_token(browser: APIClient, user: Any) -> None:
    log_in(browser)
    me = browser.get(ME)
    assert (me.status_code, me.json()["username"]) == (200, "alice")
    assert browser.head(ME).status_code == 200
    assert browser.options(PROFILE).status_code == 200
    sessions_list = browser.get(SESSIONS)
    assert sessions_list.status_code == 200
    assert [item["current"] for item in sessions_list.json()] == [True]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unsafe_methods_without_the_csrf_token_are_refused(
    browser: APIClient, user: Any, method: str
) -> None:
    log_in(browser)
    response = getattr(browser, method)(PROFILE, {"first_name": "x"}, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "CSRF check failed: CSRF token missing.",
        "code": "csrf_failed",
    }
    user.refresh_from_db()
    assert user.first_name == ""
    # With the token, the same request goes through.
    response = getattr(browser, method)(
        PROFILE, {"first_name": "x"}, format="json", **csrf(browser)
    )
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.first_name == f"changed by {method.upper()}"


def test_a_wrong_csrf_token_is_refused(browser: APIClient, user: Any) -> None:
    log_in(browser)
    response = browser.post(PROFILE, format="json", HTTP_X_CSRFTOKEN="x" * 32)
    assert (response.status_code, response.json()["code"]) == (403, "csrf_failed")


def test_logout_all_without_the_csrf_token_revokes_nothing(browser: APIClient, user: Any) -> None:
    log_in(browser)
    sessions.open_session(user)
    response = browser.post(LOGOUT_ALL, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "csrf_failed")
    assert live_sessions() == 2
    assert "access_token" not in response.cookies


def test_session_delete_without_the_csrf_token_revokes_nothing(
    browser: APIClient, user: Any
) -> None:
    log_in(browser)
    other = sessions.open_session(user).session
    url = f"{SESSIONS}{other.pk}/"
    response = browser.delete(url)
    assert (response.status_code, response.json()["code"]) == (403, "csrf_failed")
    assert live_sessions() == 2
    assert browser.delete(url, **csrf(browser)).status_code == 204
    assert live_sessions() == 1


@pytest.mark.parametrize("target", [PROFILE, LOGOUT_ALL])
def test_a_cross_site_form_post_is_refused(browser: APIClient, user: Any, target: str) -> None:
    """A form on another site posting to the API with the victim's cookies: it cannot
    read the CSRF token, and even with one, its Origin and Referer give it away."""
    log_in(browser)
    token = csrf(browser)["HTTP_X_CSRFTOKEN"]
    forms = [
        {},
        {"csrfmiddlewaretoken": token},
    ]
    for form in forms:
        for origin in ({"HTTP_ORIGIN": "https://evil.example"}, {}):
            response = browser.post(
                target,
                {**form, "first_name": "x", "keep_current": "false"},
                HTTP_REFERER="https://evil.example/form.html",
                secure=True,
                **origin,
            )
            assert response.status_code == 403, (form, origin)
            assert response.json()["code"] == "csrf_failed"
    user.refresh_from_db()
    assert user.first_name == ""
    assert live_sessions() == 1


def test_the_header_alone_is_judged_when_present(browser: APIClient, user: Any) -> None:
    log_in(browser)
    bad = browser.get(ME, HTTP_AUTHORIZATION="Bearer not-a-token")
    assert (bad.status_code, bad.json()["code"]) == (401, "token_invalid")
    assert bad["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    # Another scheme is not ours: nothing authenticates the request, the cookie neither.
    basic = browser.get(ME, HTTP_AUTHORIZATION="Basic YWxpY2U6c2VjcmV0")
    assert (basic.status_code, basic.json()["code"]) == (401, "not_authenticated")
    empty = browser.get(ME, HTTP_AUTHORIZATION="")
    assert empty.status_code == 401


def test_a_good_header_needs_no_csrf_token(browser: APIClient, user: Any) -> None:
    log_in(browser)
    token = sessions.open_session(user).access_token
    response = browser.patch(
        PROFILE, {"first_name": "x"}, format="json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 200
    response = browser.post(
        LOGOUT_ALL, {"keep_current": True}, format="json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 204
    # keep_current kept the header's session, not the cookie's.
    assert live_sessions() == 1
    assert browser.get(ME).json()["code"] == "token_revoked"


def test_an_expired_access_cookie_answers_401_and_refresh_renews_it(
    browser: APIClient, user: Any, clock: Any
) -> None:
    log_in(browser)
    clock.advance(timedelta(minutes=15, seconds=1))
    expired = browser.get(ME)
    assert (expired.status_code, expired.json()["code"]) == (401, "token_expired")
    assert expired["WWW-Authenticate"] == 'Bearer realm="api"'
    # An unsafe method with an expired cookie answers 401 too: the client refreshes.
    assert browser.post(PROFILE, format="json").status_code == 401
    refreshed = browser.post(REFRESH, format="json", **csrf(browser))
    assert refreshed.status_code == 200, refreshed.content
    assert browser.get(ME).status_code == 200


def test_no_access_cookie_answers_401(browser: APIClient, user: Any) -> None:
    """What a browser sends once the cookie's Max-Age has passed."""
    log_in(browser)
    del browser.cookies["access_token"]
    response = browser.get(ME)
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    assert browser.post(REFRESH, format="json", **csrf(browser)).status_code == 200
    assert browser.get(ME).status_code == 200


def test_a_revoked_access_cookie_answers_401(browser: APIClient, user: Any) -> None:
    log_in(browser)
    sessions.revoke_all(user, RevokeReason.ADMIN)
    response = browser.get(ME)
    assert (response.status_code, response.json()["code"]) == (401, "token_revoked")


def test_an_oversized_cookie_is_refused_not_a_500(browser: APIClient, user: Any) -> None:
    browser.cookies["access_token"] = "a" * 10_000
    response = browser.get(ME)
    assert (response.status_code, response.json()["code"]) == (401, "token_invalid")


def test_csrf_failure_body_with_drf_s_own_exception_handler(
    browser: APIClient, user: Any, settings: Any
) -> None:
    settings.REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["refreshauth.authentication.AccessTokenAuthentication"],
    }
    log_in(browser)
    response = browser.post(PROFILE, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


# --- logout and logout-all delete both cookies -------------------------------------


def test_logout_revokes_and_deletes_both_cookies(browser: APIClient, user: Any) -> None:
    log_in(browser)
    refused = browser.post(LOGOUT, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "csrf_failed")
    assert live_sessions() == 1
    response = browser.post(LOGOUT, format="json", **csrf(browser))
    assert response.status_code == 204
    assert_deleted(response.cookies["access_token"], "/")
    assert_deleted(response.cookies["refresh_token"], AUTH)
    assert live_sessions() == 0
    assert browser.get(ME).status_code == 401


def test_logout_all_revokes_and_deletes_both_cookies(browser: APIClient, user: Any) -> None:
    log_in(browser)
    sessions.open_session(user)
    response = browser.post(LOGOUT_ALL, format="json", **csrf(browser))
    assert response.status_code == 204, response.content
    assert_deleted(response.cookies["access_token"], "/")
    assert_deleted(response.cookies["refresh_token"], AUTH)
    assert live_sessions() == 0


def test_logout_all_keeping_the_current_session_keeps_its_cookies(
    browser: APIClient, user: Any
) -> None:
    log_in(browser)
    sessions.open_session(user)
    response = browser.post(LOGOUT_ALL, {"keep_current": True}, format="json", **csrf(browser))
    assert response.status_code == 204
    assert "access_token" not in response.cookies and "refresh_token" not in response.cookies
    assert live_sessions() == 1
    assert browser.get(ME).status_code == 200


def test_deleted_cookies_match_the_attributes_they_were_set_with(
    browser: APIClient, user: Any, settings: Any
) -> None:
    settings.REFRESHAUTH = {
        **BOTH_COOKIES,
        "ACCESS_COOKIE_PATH": "/api/",
        "REFRESH_COOKIE_PATH": "/api/auth/",
        "REFRESH_COOKIE_SAMESITE": "Lax",
        "REFRESH_COOKIE_DOMAIN": "testserver.local",
    }
    set_cookies = log_in(browser).cookies
    deleted = browser.post(LOGOUT, format="json", **csrf(browser)).cookies
    for name in ("access_token", "refresh_token"):
        for attribute in ("path", "domain", "samesite", "secure", "httponly"):
            assert deleted[name][attribute] == set_cookies[name][attribute], (name, attribute)


def test_logout_all_of_the_refresh_cookie_transport_deletes_its_cookie(
    browser: APIClient, user: Any, settings: Any
) -> None:
    settings.REFRESHAUTH = {"REFRESH_TOKEN_TRANSPORT": "cookie"}
    access = log_in(browser).json()["access_token"]
    response = browser.post(LOGOUT_ALL, format="json", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert response.status_code == 204
    assert_deleted(response.cookies["refresh_token"], AUTH)
    assert "access_token" not in response.cookies


# --- DPoP: a bound session in cookie mode still needs its proof ----------------------


def test_a_dpop_bound_session_in_cookie_mode_needs_its_proof(
    browser: APIClient, user: Any, settings: Any
) -> None:
    settings.REFRESHAUTH = {**BOTH_COOKIES, "DPOP": "allowed"}
    key = Key()
    response = log_in(browser, HTTP_DPOP=key.proof("POST", LOGIN))
    assert response.json()["token_type"] == "DPoP"
    token = response.cookies["access_token"].value

    missing = browser.get(ME)
    assert (missing.status_code, missing.json()["code"]) == (401, "invalid_dpop_proof")
    assert missing["WWW-Authenticate"].startswith("DPoP algs=")
    assert 'error="invalid_dpop_proof"' in missing["WWW-Authenticate"]
    stranger = browser.get(ME, HTTP_DPOP=Key().proof("GET", ME))
    assert (stranger.status_code, stranger.json()["code"]) == (401, "invalid_dpop_proof")
    elsewhere = browser.get(ME, HTTP_DPOP=key.proof("GET", SESSIONS))
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (401, "invalid_dpop_proof")
    for garbage in ("x", "a.b.c", "a." + "W" * 20 + ".c", "x" * 9000):
        answer = browser.get(ME, HTTP_DPOP=garbage)
        assert (answer.status_code, answer.json()["code"]) == (401, "invalid_dpop_proof")

    # The page cannot read the HttpOnly cookie to hash it: a proof without ath will do,
    # but an ath, when there is one, must be this token's.
    proof = key.proof("GET", ME)
    assert browser.get(ME, HTTP_DPOP=proof).status_code == 200
    replayed = browser.get(ME, HTTP_DPOP=proof)
    assert (replayed.status_code, replayed.json()["code"]) == (401, "invalid_dpop_proof")
    assert browser.get(ME, HTTP_DPOP=key.proof("GET", ME, access_token=token)).status_code == 200
    other_token = key.proof("GET", ME, access_token=sessions.open_session(user).access_token)
    wrong_ath = browser.get(ME, HTTP_DPOP=other_token)
    assert (wrong_ath.status_code, wrong_ath.json()["code"]) == (401, "invalid_dpop_proof")

    # An unsafe method needs the CSRF token and the proof.
    post_proof = key.proof("POST", PROFILE)
    refused = browser.post(PROFILE, format="json", HTTP_DPOP=post_proof)
    assert (refused.status_code, refused.json()["code"]) == (403, "csrf_failed")
    without_proof = browser.post(PROFILE, format="json", **csrf(browser))
    assert (without_proof.status_code, without_proof.json()["code"]) == (401, "invalid_dpop_proof")
    user.refresh_from_db()
    assert user.first_name == ""
    done = browser.post(PROFILE, format="json", HTTP_DPOP=post_proof, **csrf(browser))
    assert done.status_code == 200

    # The refresh needs the proof as ever, and renews the access cookie.
    assert browser.post(REFRESH, format="json", **csrf(browser)).status_code == 400
    renewed = browser.post(
        REFRESH, format="json", HTTP_DPOP=key.proof("POST", REFRESH), **csrf(browser)
    )
    assert renewed.status_code == 200, renewed.content
    assert renewed.cookies["access_token"].value != token
    assert browser.get(ME, HTTP_DPOP=key.proof("GET", ME)).status_code == 200


def test_a_bearer_session_in_cookie_mode_needs_no_proof(
    browser: APIClient, user: Any, settings: Any
) -> None:
    settings.REFRESHAUTH = {**BOTH_COOKIES, "DPOP": "allowed"}
    log_in(browser)
    assert browser.get(ME).status_code == 200


# --- which sites read the cookie -------------------------------------------------


@pytest.mark.urls("tests.urls_body_only")
def test_a_site_that_never_sets_the_access_cookie_ignores_one(
    api: APIClient, user: Any, settings: Any
) -> None:
    """Cookie tossing: another host of the domain plants an access cookie of the
    attacker's account. A site of headers alone must not take it."""
    settings.REFRESHAUTH = {}
    planted = sessions.open_session(UserFactory(username="mallory")).access_token
    api.cookies["access_token"] = planted
    response = api.get(SESSIONS)
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    settings.REFRESHAUTH = {**BOTH_COOKIES}
    assert api.get(SESSIONS).status_code == 200


def test_a_site_with_an_access_cookie_mount_reads_it(
    api: APIClient, user: Any, settings: Any
) -> None:
    """The example project mounts patterns("cookie", access="cookie") at bff/auth/."""
    settings.REFRESHAUTH = {}
    api.cookies["access_token"] = sessions.open_session(user).access_token
    assert api.get(ME).status_code == 200


def test_the_bff_mount_beside_the_body_and_cookie_mounts(settings: Any, user: Any) -> None:
    settings.REFRESHAUTH = {}
    body = APIClient().post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json")
    assert {"access_token", "refresh_token"} <= set(body.json()) and not body.cookies

    demo = APIClient(enforce_csrf_checks=True)
    response = log_in(demo, "/demo/auth/")
    assert "access_token" in response.json() and "access_token" not in response.cookies

    bff = APIClient(enforce_csrf_checks=True)
    response = log_in(bff, "/bff/auth/")
    assert set(response.json()) == {"token_type", "expires_in", "refresh_expires_in"}
    assert response.cookies["refresh_token"]["path"] == "/bff/auth/"
    assert response.cookies["access_token"]["path"] == "/"
    assert bff.get(ME).status_code == 200
    logout = bff.post("/bff/auth/logout/", format="json", **csrf(bff, "/bff/auth/"))
    assert_deleted(logout.cookies["refresh_token"], "/bff/auth/")
    assert_deleted(logout.cookies["access_token"], "/")


# --- patterns() ------------------------------------------------------------------


def initkwargs(urls: list[Any]) -> dict[str, Any]:
    return dict(urls[0].callback.view_initkwargs)


def test_patterns_per_mount() -> None:
    assert initkwargs(patterns()) == {}
    assert initkwargs(patterns("cookie")) == {"transport": "cookie"}
    assert initkwargs(patterns(access="cookie")) == {
        "transport": "cookie",
        "access_transport": "cookie",
    }
    assert initkwargs(patterns("cookie", access="header")) == {
        "transport": "cookie",
        "access_transport": "header",
    }
    # A body mount carries both tokens in the body, whatever ACCESS_TOKEN_TRANSPORT says.
    assert initkwargs(patterns("body")) == {"transport": "body", "access_transport": "header"}
    with pytest.raises(ImproperlyConfigured):
        patterns("body", access="cookie")
    with pytest.raises(ImproperlyConfigured):
        patterns(access="cookies")
    with pytest.raises(ImproperlyConfigured):
        patterns("header")


def test_a_cookie_mount_follows_access_token_transport(
    browser: APIClient, user: Any, settings: Any
) -> None:
    settings.REFRESHAUTH = {"ACCESS_TOKEN_TRANSPORT": "cookie"}
    response = log_in(browser, "/demo/auth/")
    assert "access_token" not in response.json()
    assert "access_token" in response.cookies


@pytest.mark.urls("tests.urls")
def test_openapi_describes_the_bff_mount_s_token_response_without_tokens(settings: Any) -> None:
    pytest.importorskip("drf_spectacular")
    settings.REFRESHAUTH = {}
    from drf_spectacular.generators import SchemaGenerator

    schema: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)

    def token_response(path: str) -> str:
        ok = schema["paths"][path]["post"]["responses"]["200"]
        return str(ok["content"]["application/json"]["schema"]["$ref"]).rpartition("/")[2]

    for prefix, expected in [
        ("/api/auth/", "TokenResponse"),
        ("/demo/auth/", "TokenResponse"),
        ("/bff/auth/", "CookieTokenResponse"),
    ]:
        assert token_response(f"{prefix}login/") == expected
        assert token_response(f"{prefix}refresh/") == expected
    fields = schema["components"]["schemas"]["CookieTokenResponse"]["properties"]
    assert set(fields) == {"token_type", "expires_in", "refresh_expires_in"}
