"""The HTTP contract of login/, refresh/, logout/, logout-all/, sessions/, jwks/, csrf/."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.signals import user_logged_in, user_login_failed
from rest_framework.test import APIClient

from refreshauth import sessions, tokens
from refreshauth.models import RefreshToken

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN, REFRESH, LOGOUT, LOGOUT_ALL = (
    "/api/auth/login/",
    "/api/auth/refresh/",
    "/api/auth/logout/",
    "/api/auth/logout-all/",
)


def post(api: APIClient, url: str, data: Any = None, **extra: Any) -> Any:
    return api.post(url, data, format="json", **extra)


def rows() -> list[dict[str, Any]]:
    return list(RefreshToken.objects.order_by("pk").values())


# --- login ---------------------------------------------------------------------


def test_login_answers_a_token_response(api: APIClient, user: Any) -> None:
    response = post(api, LOGIN, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "refresh_expires_in",
    }
    assert body["token_type"] == "Bearer"
    assert (body["expires_in"], body["refresh_expires_in"]) == (900, 604800)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    header = tokens._read_header(body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "HS256" and header["kid"]
    assert tokens._read_header(body["refresh_token"])["typ"] == "rt+jwt"


def test_login_records_client_and_sends_user_logged_in(api: APIClient, user: Any) -> None:
    seen: list[Any] = []
    user_logged_in.connect(lambda **kw: seen.append(kw["user"]), weak=False, dispatch_uid="t1")
    try:
        post(
            api,
            LOGIN,
            {"username": "alice", "password": PASSWORD},
            HTTP_USER_AGENT="x" * 600,
            REMOTE_ADDR="203.0.113.7",
        )
    finally:
        user_logged_in.disconnect(dispatch_uid="t1")
    assert seen == [user]
    user.refresh_from_db()
    assert user.last_login is not None
    row = RefreshToken.objects.get()
    assert row.ip_address == "203.0.113.7"
    assert row.user_agent == "x" * 512


@pytest.mark.parametrize(
    "username,password",
    [("alice", "wrong password"), ("nobody", PASSWORD), ("inactive", PASSWORD)],
)
def test_failed_login_is_one_answer_for_all(
    api: APIClient, user: Any, username: str, password: str
) -> None:
    UserFactory(username="inactive", is_active=False)
    failures: list[Any] = []
    user_login_failed.connect(lambda **kw: failures.append(kw), weak=False, dispatch_uid="t2")
    try:
        response = post(api, LOGIN, {"username": username, "password": password})
    finally:
        user_login_failed.disconnect(dispatch_uid="t2")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "No active account found with the given credentials.",
        "code": "invalid_credentials",
    }
    assert failures
    assert not RefreshToken.objects.exists()


def test_login_with_allow_all_users_backend_still_refuses_inactive(
    api: APIClient, settings: Any
) -> None:
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    UserFactory(username="inactive", is_active=False)
    response = post(api, LOGIN, {"username": "inactive", "password": PASSWORD})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_password_is_used_exactly_as_sent(api: APIClient) -> None:
    UserFactory(username="spaces", password="  padded  ")
    assert post(api, LOGIN, {"username": "spaces", "password": "padded"}).status_code == 401
    assert post(api, LOGIN, {"username": "spaces", "password": "  padded  "}).status_code == 200


def test_unknown_user_and_wrong_password_both_run_the_hasher(
    api: APIClient, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timing attack on usernames: both failures hash the password exactly once."""
    from django.contrib.auth.hashers import MD5PasswordHasher

    hashed: list[str] = []
    original = MD5PasswordHasher.encode

    def encode(self: Any, password: str, salt: str) -> str:
        hashed.append(password)
        return original(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", encode)
    post(api, LOGIN, {"username": "nobody", "password": "guess one"})
    post(api, LOGIN, {"username": "alice", "password": "guess two"})
    assert hashed == ["guess one", "guess two"]


@pytest.mark.parametrize(
    "body",
    [
        {"username": 5, "password": PASSWORD},
        {"username": "alice", "password": 123},
        {"username": "alice", "password": None},
        {"username": ["alice"], "password": PASSWORD},
        {"username": {"$ne": 1}, "password": PASSWORD},
        {"username": True, "password": PASSWORD},
        {"username": "alice"},
        {"password": PASSWORD},
        {"username": "a" * 4097, "password": PASSWORD},
        {"username": "alice", "password": "p" * 4097},
        {"username": "al\x00ice", "password": PASSWORD},
        {"username": "\ud800", "password": PASSWORD},
        [],
        [1, 2],
        "alice",
        42,
        None,
    ],
)
def test_malformed_login_is_400(api: APIClient, user: Any, body: Any) -> None:
    response = api.post(LOGIN, json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content
    assert not RefreshToken.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"username": "alice", "password": NaN}',
        b"\xff\xfe",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    ],
)
def test_unparseable_body_is_400(api: APIClient, raw: bytes) -> None:
    response = api.post(LOGIN, raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_body_over_the_upload_limit_is_400(api: APIClient, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"username": "alice", "password": "p" * 2000})
    response = api.post(LOGIN, body, content_type="application/json")
    assert response.status_code == 400


def test_a_megabyte_token_is_400(api: APIClient) -> None:
    response = post(api, REFRESH, {"refresh_token": "a" * 1_000_000})
    assert response.status_code == 400
    assert "refresh_token" in response.json()


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x", ""])
def test_login_takes_only_json(api: APIClient, user: Any, content_type: str) -> None:
    response = api.generic("POST", LOGIN, b"username=alice&password=x", content_type=content_type)
    assert response.status_code == 415


def test_login_ignores_authorization_header(api: APIClient, user: Any) -> None:
    response = post(
        api,
        LOGIN,
        {"username": "alice", "password": PASSWORD},
        HTTP_AUTHORIZATION="Bearer garbage",
    )
    assert response.status_code == 200


def test_project_defaults_do_not_leak_into_refreshauth_views(
    api: APIClient, user: Any, settings: Any
) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
        "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
        "DEFAULT_THROTTLE_RATES": {"anon": "1/day"},
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.BrowsableAPIRenderer"],
    }
    for _ in range(2):
        assert post(api, LOGIN, {"username": "alice", "password": PASSWORD}).status_code == 200


def test_accept_header_does_not_change_the_answer(api: APIClient, user: Any) -> None:
    response = post(
        api, LOGIN, {"username": "alice", "password": PASSWORD}, HTTP_ACCEPT="text/html"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


# --- refresh -------------------------------------------------------------------


def test_refresh_rotates(api: APIClient, login: Any) -> None:
    first = login()
    response = post(api, REFRESH, {"refresh_token": first["refresh_token"]})
    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert response.headers["Cache-Control"] == "no-store"
    reused = post(api, REFRESH, {"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json() == {
        "detail": "Token was already used; the session has been revoked.",
        "code": "token_reused",
        "error": "invalid_grant",
    }
    after = post(api, REFRESH, {"refresh_token": second["refresh_token"]})
    assert after.json()["code"] == "token_revoked"
    assert after.json()["error"] == "invalid_grant"


def test_refresh_with_the_oauth_form(api: APIClient, login: Any) -> None:
    first = login()
    response = api.post(
        REFRESH,
        f"grant_type=refresh_token&refresh_token={first['refresh_token']}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content
    assert response.json()["refresh_token"] != first["refresh_token"]


@pytest.mark.parametrize(
    "body,content_type",
    [
        ("grant_type=password&username=alice&password=x", "application/x-www-form-urlencoded"),
        ("grant_type=client_credentials", "application/x-www-form-urlencoded"),
        ('{"grant_type": "authorization_code", "refresh_token": "x"}', "application/json"),
    ],
)
def test_other_grant_types_are_unsupported(api: APIClient, body: str, content_type: str) -> None:
    response = api.post(REFRESH, body, content_type=content_type)
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_form_without_grant_type_is_400(api: APIClient, login: Any) -> None:
    token = login()["refresh_token"]
    response = api.post(
        REFRESH, f"refresh_token={token}", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "grant_type" in response.json()


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "", " "])
def test_refresh_with_garbage(api: APIClient, token: str) -> None:
    response = post(api, REFRESH, {"refresh_token": token})
    assert response.status_code in (400, 401)
    if response.status_code == 401:
        assert response.json() == {
            "detail": "Token is invalid.",
            "code": "token_invalid",
            "error": "invalid_grant",
        }


def _forge(
    token: str, header: dict[str, Any] | None = None, key: bytes | None = None, **claims: Any
) -> str:
    import jwt as pyjwt

    h = {**tokens._read_header(token), **(header or {})}
    p = {**tokens.decode_refresh(token, verify_exp=False).claims, **claims}
    return pyjwt.encode(p, key or tokens.refresh_keys().current.signing, "HS256", headers=h)


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: _forge(t, key=b"k" * 32),
        lambda t: _forge(t, header={"typ": "at+jwt"}),
        lambda t: _forge(t, header={"typ": "JWT"}),
        lambda t: _forge(t, header={"jku": "http://127.0.0.1:1/"}),
        lambda t: _forge(t, header={"kid": "../../etc/passwd"}),
        lambda t: _forge(t, sid="not-a-uuid"),
        lambda t: t.split(".")[0] + "." + t.split(".")[1] + ".",
        lambda t: ".".join(t.split(".")[:2]) + "." + t.split(".")[2][::-1],
        lambda t: t + ".extra",
    ],
    ids=[
        "wrong-key",
        "access-typ",
        "jwt-typ",
        "jku",
        "kid-path",
        "bad-sid",
        "unsigned",
        "reversed-signature",
        "four-segments",
    ],
)
def test_forged_refresh_tokens_are_invalid_and_change_nothing(
    api: APIClient, login: Any, forge: Any
) -> None:
    token = login()["refresh_token"]
    before = rows()
    response = post(api, REFRESH, {"refresh_token": forge(token)})
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"
    assert rows() == before
    assert post(api, REFRESH, {"refresh_token": token}).status_code == 200


@pytest.mark.parametrize("alg", ["none", "NONE", "nOnE"])
def test_unsigned_refresh_token_is_invalid(api: APIClient, login: Any, alg: str) -> None:
    import base64

    token = login()["refresh_token"]
    header = {**tokens._read_header(token), "alg": alg}
    head = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    forged = f"{head}.{token.split('.')[1]}."
    assert post(api, REFRESH, {"refresh_token": forged}).json()["code"] == "token_invalid"


def test_access_token_as_refresh_token_is_invalid(api: APIClient, login: Any) -> None:
    response = post(api, REFRESH, {"refresh_token": login()["access_token"]})
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_expired_refresh_token(api: APIClient, login: Any, clock: Any) -> None:
    token = login()["refresh_token"]
    clock.advance(timedelta(days=8))
    response = post(api, REFRESH, {"refresh_token": token})
    assert response.json()["code"] == "token_expired"


def test_grace_period_over_http(api: APIClient, login: Any, settings: Any) -> None:
    settings.REFRESHAUTH = {"REUSE_GRACE_PERIOD": timedelta(seconds=5)}
    token = login()["refresh_token"]
    a = post(api, REFRESH, {"refresh_token": token}).json()
    b = post(api, REFRESH, {"refresh_token": token}).json()
    assert a["refresh_token"] == b["refresh_token"]


def test_failed_refresh_changes_nothing(api: APIClient, login: Any) -> None:
    token = login()["refresh_token"]
    before = rows()
    h, p, s = token.split(".")
    post(api, REFRESH, {"refresh_token": f"{h}.{p}.{s[:-2]}AA"})
    post(api, REFRESH, {"refresh_token": 12})
    assert rows() == before


def test_refresh_ignores_authorization_header(api: APIClient, login: Any) -> None:
    token = login()["refresh_token"]
    response = post(api, REFRESH, {"refresh_token": token}, HTTP_AUTHORIZATION="Bearer x.y.z")
    assert response.status_code == 200


# --- logout --------------------------------------------------------------------


def test_logout_revokes_the_session(
    api: APIClient, login: Any, django_capture_on_commit_callbacks: Any
) -> None:
    body = login()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api, LOGOUT, {"refresh_token": body["refresh_token"]})
    assert response.status_code == 204
    assert post(api, REFRESH, {"refresh_token": body["refresh_token"]}).json()["code"] == (
        "token_revoked"
    )
    me = api.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert me.json()["code"] == "token_revoked"


def test_logout_with_a_rotated_token_revokes_the_session(api: APIClient, login: Any) -> None:
    first = login()["refresh_token"]
    second = post(api, REFRESH, {"refresh_token": first}).json()["refresh_token"]
    assert post(api, LOGOUT, {"refresh_token": first}).status_code == 204
    assert post(api, REFRESH, {"refresh_token": second}).json()["code"] == "token_revoked"


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 4000])
def test_logout_answers_204_for_any_token(api: APIClient, token: str) -> None:
    assert post(api, LOGOUT, {"refresh_token": token}).status_code == 204


def test_logout_is_idempotent(api: APIClient, login: Any) -> None:
    token = login()["refresh_token"]
    assert post(api, LOGOUT, {"refresh_token": token}).status_code == 204
    assert post(api, LOGOUT, {"refresh_token": token}).status_code == 204


@pytest.mark.parametrize("body", [{}, {"refresh_token": 5}, None])
def test_logout_without_a_token_is_400(api: APIClient, body: Any) -> None:
    assert post(api, LOGOUT, body).status_code == 400


# --- logout-all ------------------------------------------------------------------


def test_logout_all(api: APIClient, login: Any) -> None:
    a, b = login(), login()
    response = api.post(LOGOUT_ALL, HTTP_AUTHORIZATION=f"Bearer {a['access_token']}")
    assert response.status_code == 204
    for body in (a, b):
        assert post(api, REFRESH, {"refresh_token": body["refresh_token"]}).status_code == 401


def test_logout_all_keep_current(api: APIClient, login: Any) -> None:
    a, b = login(), login()
    response = post(
        api, LOGOUT_ALL, {"keep_current": True}, HTTP_AUTHORIZATION=f"Bearer {a['access_token']}"
    )
    assert response.status_code == 204
    assert post(api, REFRESH, {"refresh_token": a["refresh_token"]}).status_code == 200
    assert post(api, REFRESH, {"refresh_token": b["refresh_token"]}).status_code == 401


@pytest.mark.parametrize("body", [{"keep_current": "yes"}, {"keep_current": 1}, [True]])
def test_logout_all_rejects_non_boolean(api: APIClient, login: Any, body: Any) -> None:
    a = login()
    response = post(api, LOGOUT_ALL, body, HTTP_AUTHORIZATION=f"Bearer {a['access_token']}")
    assert response.status_code == 400
    assert RefreshToken.objects.live().count() == 1


def test_logout_all_needs_an_access_token(api: APIClient) -> None:
    response = api.post(LOGOUT_ALL)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


# --- csrf, jwks, misc -------------------------------------------------------------


def test_csrf_sets_the_cookie(api: APIClient) -> None:
    response = api.get("/api/auth/csrf/")
    assert response.status_code == 204
    assert "csrftoken" in response.cookies


def test_jwks_is_empty_with_hmac(api: APIClient) -> None:
    response = api.get("/api/auth/jwks/")
    assert response.status_code == 200
    assert response.json() == {"keys": []}
    assert "max-age" in response.headers["Cache-Control"]


def test_wrong_method_is_405_json(api: APIClient) -> None:
    response = api.get(LOGIN)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_locked_database_is_503(
    api: APIClient, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    token = login()["refresh_token"]

    def locked(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("database is locked")

    monkeypatch.setattr(sessions, "_load_session", locked)
    response = post(api, REFRESH, {"refresh_token": token})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"


def test_login_and_refresh_query_counts(
    api: APIClient, user: Any, django_assert_num_queries: Any
) -> None:
    """Login: the user, last_login, the new session (and the savepoint around the last
    two, inside the test's transaction); refresh: the session with its user, the UPDATE."""
    with django_assert_num_queries(5) as captured:
        body = post(api, LOGIN, {"username": "alice", "password": PASSWORD}).json()
    sql = [q["sql"].split()[0] for q in captured.captured_queries]
    assert sql == ["SELECT", "SAVEPOINT", "UPDATE", "INSERT", "RELEASE"]
    with django_assert_num_queries(2):
        assert post(api, REFRESH, {"refresh_token": body["refresh_token"]}).status_code == 200


def test_a_missing_table_stays_a_loud_500(
    api: APIClient, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    token = login()["refresh_token"]

    def unmigrated(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("no such table: refreshauth_refreshtoken")

    monkeypatch.setattr(sessions, "_load_session", unmigrated)
    with pytest.raises(OperationalError, match="no such table"):
        post(api, REFRESH, {"refresh_token": token})


def _driver_error(module: str, *args: Any, **attributes: Any) -> Exception:
    from django.db import OperationalError

    cause_class = type("DriverError", (Exception,), {"__module__": module})
    cause = cause_class(*args)
    for name, value in attributes.items():
        setattr(cause, name, value)
    error = OperationalError(*args)
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "error,transient",
    [
        (_driver_error("psycopg", "terminating connection", sqlstate="57P01"), True),
        (_driver_error("psycopg", "could not serialize", sqlstate="40001"), True),
        (_driver_error("psycopg", "lock not available", sqlstate="55P03"), True),
        (_driver_error("psycopg", "connection refused"), True),
        (_driver_error("psycopg", "division by zero", sqlstate="22012"), False),
        (_driver_error("MySQLdb", 2006, "MySQL server has gone away"), True),
        (_driver_error("MySQLdb", 1213, "Deadlock found"), True),
        (_driver_error("MySQLdb", 1054, "Unknown column"), False),
        (_driver_error("sqlite3", "database is locked"), True),
        (_driver_error("sqlite3", "no such table: x"), False),
    ],
)
def test_only_transient_database_errors_are_503(error: Exception, transient: bool) -> None:
    from refreshauth.views import is_transient

    assert is_transient(error) is transient
