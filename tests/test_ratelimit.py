"""Rate limits on failed logins (per client and username, per username) and refreshes."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from refreshauth import ratelimit

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN, REFRESH = "/api/auth/login/", "/api/auth/refresh/"


def attempt(api: APIClient, username: str = "alice", password: str = "wrong", **extra: Any) -> Any:
    return api.post(LOGIN, {"username": username, "password": password}, format="json", **extra)


def assert_limited(response: Any) -> None:
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1


def test_five_failures_per_client_and_username(api: APIClient, user: Any) -> None:
    for _ in range(5):
        assert attempt(api).status_code == 401
    assert_limited(attempt(api))
    # Even the right password waits: the limit is checked before the password.
    assert_limited(attempt(api, password=PASSWORD))
    # Another username from the same client, and the same username elsewhere, go on.
    assert attempt(api, username="bob").status_code == 401
    assert attempt(api, password=PASSWORD, REMOTE_ADDR="198.51.100.9").status_code == 200


def test_successful_logins_are_not_counted(api: APIClient, user: Any) -> None:
    for _ in range(8):
        assert attempt(api, password=PASSWORD).status_code == 200


def test_unknown_usernames_are_limited_too(api: APIClient) -> None:
    for _ in range(5):
        assert attempt(api, username="ghost").status_code == 401
    assert_limited(attempt(api, username="ghost"))


def test_case_variants_share_a_bucket(api: APIClient, user: Any) -> None:
    for name in ["alice", "Alice", "ALICE", "aLiCe", "ALICE"]:
        attempt(api, username=name)
    assert_limited(attempt(api, username="AlIcE"))


def test_account_limit_from_many_clients(api: APIClient, user: Any, settings: Any) -> None:
    settings.REFRESHAUTH = {"LOGIN_ACCOUNT_RATE": "3/h"}
    for i in range(3):
        assert attempt(api, REMOTE_ADDR=f"203.0.113.{i}").status_code == 401
    assert_limited(attempt(api, password=PASSWORD, REMOTE_ADDR="203.0.113.200"))


def test_forged_forwarded_for_bypasses_nothing(api: APIClient, user: Any) -> None:
    for i in range(5):
        attempt(api, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    assert_limited(attempt(api, HTTP_X_FORWARDED_FOR="10.9.9.9"))


def test_trusted_proxy_header_takes_its_last_entry(
    api: APIClient, user: Any, settings: Any
) -> None:
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_FORWARDED_FOR"
    for _ in range(5):
        attempt(api, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.5")
    assert_limited(attempt(api, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5"))
    assert attempt(api, HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 401


@pytest.mark.parametrize("remote", ["", "not-an-ip", "1.2.3.4, 5.6.7.8", "::1", "fe80::1%eth0"])
def test_odd_addresses_are_never_a_500(api: APIClient, user: Any, remote: str) -> None:
    assert attempt(api, REMOTE_ADDR=remote).status_code == 401
    assert attempt(api, password=PASSWORD, REMOTE_ADDR=remote).status_code == 200


def test_none_disables(api: APIClient, user: Any, settings: Any) -> None:
    settings.REFRESHAUTH = {"LOGIN_RATE": None, "LOGIN_ACCOUNT_RATE": None}
    for _ in range(12):
        assert attempt(api).status_code == 401


def test_refreshes_per_session(api: APIClient, login: Any, settings: Any) -> None:
    settings.REFRESHAUTH = {"REFRESH_RATE": "2/m"}
    token = login()["refresh_token"]
    other = login()["refresh_token"]
    for _ in range(2):
        response = api.post(REFRESH, {"refresh_token": token}, format="json")
        assert response.status_code == 200
        token = response.json()["refresh_token"]
    assert_limited(api.post(REFRESH, {"refresh_token": token}, format="json"))
    assert api.post(REFRESH, {"refresh_token": other}, format="json").status_code == 200
    # The limited request did not rotate: the token still works once the window frees.
    settings.REFRESHAUTH = {"REFRESH_RATE": None}
    assert api.post(REFRESH, {"refresh_token": token}, format="json").status_code == 200


def test_forged_refresh_tokens_do_not_spend_a_sessions_budget(
    api: APIClient, login: Any, settings: Any
) -> None:
    settings.REFRESHAUTH = {"REFRESH_RATE": "2/m"}
    token = login()["refresh_token"]
    head, body, _ = token.split(".")
    for _ in range(5):
        api.post(REFRESH, {"refresh_token": f"{head}.{body}.AAAA"}, format="json")
    assert api.post(REFRESH, {"refresh_token": token}, format="json").status_code == 200


def test_ipv6_clients_are_counted_per_64(rf: Any) -> None:
    a = ratelimit._network(ratelimit.client_ip(rf.get("/", REMOTE_ADDR="2001:db8::1")))
    b = ratelimit._network(ratelimit.client_ip(rf.get("/", REMOTE_ADDR="2001:db8::ffff")))
    assert a == b == "2001:db8::"


def test_other_user_unaffected_by_a_limited_one(api: APIClient, user: Any) -> None:
    UserFactory(username="bob")
    for _ in range(6):
        attempt(api)
    assert attempt(api, username="bob", password=PASSWORD).status_code == 200


def test_a_cache_that_cannot_count_is_503_not_unlimited(
    api: APIClient, user: Any, break_cache: Any
) -> None:
    break_cache("add")
    response = attempt(api)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"


def test_a_cache_that_answers_nothing_fails_closed(
    api: APIClient, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.cache import caches

    cache_class = type(caches["default"])
    monkeypatch.setattr(cache_class, "add", lambda *a, **k: False)
    monkeypatch.setattr(cache_class, "incr", lambda *a, **k: None)
    assert attempt(api, password=PASSWORD).status_code == 503


@pytest.mark.parametrize("fail_open", [False, True])
def test_the_refresh_limit_fails_closed_when_its_cache_cannot_count(
    api: APIClient, login: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, fail_open: bool
) -> None:
    from django.core.cache import caches

    token = login()["refresh_token"]
    settings.RATELIMIT_FAIL_OPEN = fail_open
    cache_class = type(caches["default"])
    monkeypatch.setattr(cache_class, "add", lambda *a, **k: False)
    monkeypatch.setattr(cache_class, "incr", lambda *a, **k: None)
    response = api.post(REFRESH, {"refresh_token": token}, format="json")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    monkeypatch.undo()
    # Nothing rotated: the token still works once the cache answers.
    assert api.post(REFRESH, {"refresh_token": token}, format="json").status_code == 200


def test_ipv4_mapped_clients_count_as_their_ipv4_address(rf: Any) -> None:
    def network(address: str) -> str:
        return ratelimit._network(ratelimit.client_ip(rf.get("/", REMOTE_ADDR=address)))

    assert network("::ffff:192.0.2.1") == network("192.0.2.1") == "192.0.2.1"
    assert network("::ffff:192.0.2.1") != network("::ffff:198.51.100.7")


def test_mapped_clients_do_not_lock_each_other_out(api: APIClient, user: Any) -> None:
    for _ in range(6):
        attempt(api, REMOTE_ADDR="::ffff:192.0.2.1")
    assert attempt(api, REMOTE_ADDR="::ffff:192.0.2.1").status_code == 429
    ok = attempt(api, password=PASSWORD, REMOTE_ADDR="::ffff:198.51.100.7")
    assert ok.status_code == 200
