"""Every misconfiguration is a system check with a stable id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command

from refreshauth.checks import check_deploy, check_settings

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1",
    },
    "sessions": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/1",
    },
}
OWN_CACHE = {"CACHE_ALIAS": "sessions"}


def ids(settings: Any, value: Any, deploy: bool = False) -> list[str]:
    settings.REFRESHAUTH = value
    return [m.id for m in (check_deploy if deploy else check_settings)(None)]


def test_defaults_are_clean(settings: Any) -> None:
    settings.CACHES = LOCMEM
    assert ids(settings, {}) == []
    del settings.REFRESHAUTH
    assert [m.id for m in check_settings(None)] == []


def test_manage_py_check_is_clean(settings: Any) -> None:
    settings.CACHES = LOCMEM
    call_command("check", "--fail-level", "WARNING")


@pytest.mark.parametrize(
    "value,expected",
    [
        ("not a dict", ["refreshauth.E001"]),
        ({"ACCESS_TOKEN_LIFETIM": timedelta(minutes=5)}, ["refreshauth.E002"]),
        ({"ACCESS_TOKEN_LIFETIME": 900}, ["refreshauth.E003"]),
        ({"REVOKE_ACCESS_TOKENS": "yes"}, ["refreshauth.E003"]),
        ({"MAX_SESSIONS_PER_USER": True}, ["refreshauth.E003"]),
        ({"ACCESS_TOKEN_SECRET_FALLBACKS": "one"}, ["refreshauth.E003"]),
        ({"ACCESS_TOKEN_LIFETIME": timedelta(0)}, ["refreshauth.E004"]),
        ({"REFRESH_TOKEN_LIFETIME": timedelta(seconds=-1)}, ["refreshauth.E004"]),
        ({"SESSION_MAX_LIFETIME": timedelta(0)}, ["refreshauth.E004"]),
        ({"LEEWAY": timedelta(seconds=-1)}, ["refreshauth.E004"]),
        ({"ACCESS_TOKEN_LIFETIME": timedelta(days=7)}, ["refreshauth.E005"]),
        (
            {"ACCESS_TOKEN_SECRET": "a" * 40, "REFRESH_TOKEN_SECRET": "a" * 40},
            ["refreshauth.E006"],
        ),
        ({"ALGORITHM": "none"}, ["refreshauth.E007"]),
        ({"ALGORITHM": "HS1"}, ["refreshauth.E007"]),
        ({"REFRESH_TOKEN_TRANSPORT": "header"}, ["refreshauth.E008"]),
        ({"ACCESS_TOKEN_SECRET": "short"}, ["refreshauth.E009"]),
        ({"REFRESH_TOKEN_SECRET": b"x" * 31}, ["refreshauth.E009"]),
        ({"ALGORITHM": "HS512", "ACCESS_TOKEN_SECRET": "x" * 48}, ["refreshauth.E009"]),
        ({"ACCESS_TOKEN_SECRET_FALLBACKS": ["x" * 10]}, ["refreshauth.E009"]),
        ({"REUSE_GRACE_PERIOD": timedelta(minutes=15)}, ["refreshauth.E010"]),
        ({"REUSE_GRACE_PERIOD": timedelta(seconds=-1)}, ["refreshauth.E010"]),
        ({"ALGORITHM": "RS256"}, ["refreshauth.E011"]),
        ({"ALGORITHM": "RS256", "ACCESS_TOKEN_PRIVATE_KEY": "not a pem"}, ["refreshauth.E011"]),
        ({"ACCESS_TOKEN_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----"}, ["refreshauth.E012"]),
        ({"LOGIN_RATE": "five per minute"}, ["refreshauth.E013"]),
        ({"REFRESH_RATE": "10/w"}, ["refreshauth.E013"]),
        ({"REFRESH_COOKIE_SAMESITE": "strict-ish"}, ["refreshauth.E014"]),
        (
            {"REFRESH_COOKIE_SAMESITE": "None", "REFRESH_COOKIE_SECURE": False},
            ["refreshauth.E014"],
        ),
        ({"REFRESH_COOKIE_NAME": "__Host-rt"}, ["refreshauth.E014"]),
        (
            {"REFRESH_COOKIE_NAME": "__Host-rt", "REFRESH_COOKIE_PATH": "/api/"},
            ["refreshauth.E014"],
        ),
        (
            {"REFRESH_COOKIE_NAME": "__Secure-rt", "REFRESH_COOKIE_SECURE": False},
            ["refreshauth.E014"],
        ),
        ({"EXTRA_CLAIMS": "no.such.function"}, ["refreshauth.E015"]),
        ({"EXTRA_CLAIMS": "refreshauth.conf.DEFAULTS"}, ["refreshauth.E015"]),
        ({"USER_ID_FIELD": "uuid"}, ["refreshauth.E016"]),
        ({"CACHE_ALIAS": "tokens"}, ["refreshauth.E017"]),
        ({"MAX_SESSIONS_PER_USER": 0}, ["refreshauth.E018"]),
        ({"SESSION_CACHE_TTL": timedelta(0)}, ["refreshauth.E004"]),
        ({"SESSION_CACHE_TTL": 60}, ["refreshauth.E003"]),
        ({"DPOP": "on"}, ["refreshauth.E020"]),
        ({"DPOP": True}, ["refreshauth.E003"]),
        ({"DPOP": "allowed", "DPOP_ALGORITHMS": ["HS256"]}, ["refreshauth.E022"]),
        ({"DPOP": "allowed", "DPOP_ALGORITHMS": ["none"]}, ["refreshauth.E022"]),
        ({"DPOP": "allowed", "DPOP_ALGORITHMS": ["ES257"]}, ["refreshauth.E022"]),
        ({"DPOP": "allowed", "DPOP_ALGORITHMS": []}, ["refreshauth.E022"]),
        ({"DPOP_PROOF_MAX_AGE": timedelta(0)}, ["refreshauth.E023"]),
        ({"DPOP_PROOF_MAX_AGE": timedelta(minutes=6)}, ["refreshauth.E023"]),
        ({"REUSE_GRACE_PERIOD": timedelta(seconds=90)}, ["refreshauth.W001"]),
        ({"REFRESH_COOKIE_PATH": "api/auth/"}, ["refreshauth.E014"]),
        ({"ACCESS_TOKEN_TRANSPORT": True}, ["refreshauth.E003"]),
        ({"ACCESS_TOKEN_TRANSPORT": "body"}, ["refreshauth.E024"]),
        ({"ACCESS_TOKEN_TRANSPORT": "cookie"}, ["refreshauth.E025"]),
        (
            {"ACCESS_TOKEN_TRANSPORT": "cookie", "REFRESH_TOKEN_TRANSPORT": "body"},
            ["refreshauth.E025"],
        ),
        (
            {"ACCESS_TOKEN_TRANSPORT": "cookie", "REFRESH_TOKEN_TRANSPORT": "header"},
            ["refreshauth.E008"],
        ),
        ({"ACCESS_COOKIE_NAME": ""}, ["refreshauth.E003"]),
        ({"ACCESS_COOKIE_PATH": None}, ["refreshauth.E003"]),
        ({"ACCESS_COOKIE_PATH": "api/"}, ["refreshauth.E014"]),
        (
            {"ACCESS_COOKIE_NAME": "__Host-at", "ACCESS_COOKIE_PATH": "/api/"},
            ["refreshauth.E014"],
        ),
        (
            {"ACCESS_COOKIE_NAME": "__host-at", "ACCESS_COOKIE_PATH": "/api/"},
            ["refreshauth.E014"],
        ),
        (
            {"ACCESS_COOKIE_NAME": "__Host-at", "REFRESH_COOKIE_SECURE": False},
            ["refreshauth.E014"],
        ),
        (
            {"ACCESS_COOKIE_NAME": "__Host-at", "REFRESH_COOKIE_DOMAIN": "example.com"},
            ["refreshauth.E014"],
        ),
        (
            {"ACCESS_COOKIE_NAME": "__Secure-at", "REFRESH_COOKIE_SECURE": False},
            ["refreshauth.E014"],
        ),
        ({"ACCESS_COOKIE_NAME": "refresh_token"}, ["refreshauth.E026"]),
        (
            {"ACCESS_COOKIE_NAME": "__Host-t", "REFRESH_COOKIE_NAME": "__Host-t"},
            ["refreshauth.E014", "refreshauth.E026"],
        ),
        (
            {"ACCESS_TOKEN_LIFETIME": 900, "REFRESH_TOKEN_LIFETIME": timedelta(0)},
            ["refreshauth.E003", "refreshauth.E004"],
        ),
    ],
)
def test_misconfiguration_ids(settings: Any, value: Any, expected: list[str]) -> None:
    settings.CACHES = LOCMEM
    assert ids(settings, value) == expected


@pytest.mark.parametrize(
    "value",
    [
        {"REFRESH_COOKIE_NAME": "__Host-rt", "REFRESH_COOKIE_PATH": "/"},
        {"ACCESS_TOKEN_SECRET": "a" * 32, "REFRESH_TOKEN_SECRET": "b" * 32},
        {"REUSE_GRACE_PERIOD": timedelta(seconds=60)},
        {"LOGIN_RATE": None, "REFRESH_RATE": "10/5m"},
        {"USER_ID_FIELD": "username", "EXTRA_CLAIMS": "tests.test_sessions.extra_claims"},
        {"REFRESH_TOKEN_TRANSPORT": "cookie", "ACCESS_TOKEN_TRANSPORT": "cookie"},
        {"ACCESS_COOKIE_NAME": "__Host-at"},
        {
            "REFRESH_COOKIE_NAME": "__Host-rt",
            "REFRESH_COOKIE_PATH": "/",
            "ACCESS_COOKIE_PATH": "/",
        },
        {
            "ACCESS_COOKIE_NAME": "__Secure-at",
            "ACCESS_COOKIE_PATH": "/api/",
            "REFRESH_COOKIE_DOMAIN": "example.com",
            "REFRESH_COOKIE_SAMESITE": "Lax",
        },
        {"REFRESH_COOKIE_SAMESITE": None, "REFRESH_COOKIE_PATH": "/api/auth/"},
    ],
)
def test_valid_configurations_are_clean(settings: Any, value: dict[str, Any]) -> None:
    settings.CACHES = LOCMEM
    assert ids(settings, value) == []


def test_cookie_transport_needs_the_csrf_middleware(settings: Any) -> None:
    settings.CACHES = LOCMEM
    settings.ROOT_URLCONF = "tests.urls_body_only"
    assert ids(settings, {"REFRESH_TOKEN_TRANSPORT": "cookie"}) == []
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "csrf" not in m.lower()]
    assert ids(settings, {"REFRESH_TOKEN_TRANSPORT": "cookie"}) == ["refreshauth.E019"]
    both = {"REFRESH_TOKEN_TRANSPORT": "cookie", "ACCESS_TOKEN_TRANSPORT": "cookie"}
    assert ids(settings, both) == ["refreshauth.E019"]
    assert ids(settings, {}) == []


def test_a_cookie_mount_needs_the_csrf_middleware(settings: Any) -> None:
    settings.CACHES = LOCMEM
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "csrf" not in m.lower()]
    # The example project mounts patterns("cookie") at demo/auth/.
    assert ids(settings, {}) == ["refreshauth.E019"]


def test_local_cache_is_only_a_deploy_warning(settings: Any) -> None:
    settings.CACHES = LOCMEM
    assert ids(settings, {}) == []
    assert ids(settings, {}, deploy=True) == [
        "refreshauth.W002",
        "refreshauth.W006",
        "refreshauth.W003",
    ]


def test_shared_cache_of_its_own_is_deploy_clean(settings: Any) -> None:
    settings.CACHES = REDIS
    assert ids(settings, OWN_CACHE, deploy=True) == []


def test_state_cache_shared_with_rate_limits_is_a_deploy_warning(settings: Any) -> None:
    settings.CACHES = REDIS
    assert ids(settings, {}, deploy=True) == ["refreshauth.W006"]
    settings.RATELIMIT_USE_CACHE = "sessions"
    assert ids(settings, OWN_CACHE, deploy=True) == ["refreshauth.W006"]
    disabled = {"LOGIN_RATE": None, "LOGIN_ACCOUNT_RATE": None, "REFRESH_RATE": None}
    assert ids(settings, {**OWN_CACHE, **disabled}, deploy=True) == []


@pytest.mark.parametrize(
    "backend,options,warns",
    [
        ("django.core.cache.backends.memcached.PyMemcacheCache", {}, True),
        ("django.core.cache.backends.filebased.FileBasedCache", {}, True),
        ("django.core.cache.backends.filebased.FileBasedCache", {"MAX_ENTRIES": 10**7}, False),
        ("example_project.cache.LockedFileBasedCache", {"MAX_ENTRIES": 5000}, True),
        ("django.core.cache.backends.db.DatabaseCache", {}, True),
        ("django.core.cache.backends.redis.RedisCache", {}, False),
    ],
)
def test_state_cache_that_evicts_early_is_a_deploy_warning(
    settings: Any, backend: str, options: dict[str, Any], warns: bool
) -> None:
    settings.CACHES = {
        **REDIS,
        "sessions": {"BACKEND": backend, "LOCATION": "/tmp/x", "OPTIONS": options},
    }
    expected = ["refreshauth.W007"] if warns else []
    assert ids(settings, OWN_CACHE, deploy=True) == expected


def test_rate_limit_cache_warning_follows_ratelimit_use_cache(settings: Any) -> None:
    settings.CACHES = {**REDIS, "local": LOCMEM["default"]}
    settings.RATELIMIT_USE_CACHE = "local"
    assert ids(settings, OWN_CACHE, deploy=True) == ["refreshauth.W003"]
    disabled = {"LOGIN_RATE": None, "LOGIN_ACCOUNT_RATE": None, "REFRESH_RATE": None}
    assert ids(settings, {**OWN_CACHE, **disabled}, deploy=True) == []


def test_insecure_cookie_is_a_deploy_warning(settings: Any) -> None:
    settings.CACHES = REDIS
    value = {**OWN_CACHE, "REFRESH_TOKEN_TRANSPORT": "cookie", "REFRESH_COOKIE_SECURE": False}
    assert ids(settings, value) == []
    assert ids(settings, value, deploy=True) == ["refreshauth.W005"]
    both = {**value, "ACCESS_TOKEN_TRANSPORT": "cookie"}
    assert ids(settings, both) == []
    assert ids(settings, both, deploy=True) == ["refreshauth.W005"]


def test_dpop_without_cryptography_is_an_error(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    settings.CACHES = LOCMEM
    monkeypatch.setitem(sys.modules, "cryptography", None)  # an import of it fails
    assert ids(settings, {"DPOP": "required"}) == ["refreshauth.E021"]
    assert ids(settings, {"DPOP": "off"}) == []


def test_messages_name_the_setting_and_the_value(settings: Any) -> None:
    settings.CACHES = LOCMEM
    settings.REFRESHAUTH = {"ACCESS_TOKEN_TRANSPORT": "bearer", "LEEWAY": 5}
    messages = {m.id: m.msg for m in check_settings(None)}
    assert messages == {
        "refreshauth.E003": "REFRESHAUTH['LEEWAY'] must be a timedelta, not 5.",
        "refreshauth.E024": (
            "REFRESHAUTH['ACCESS_TOKEN_TRANSPORT'] must be 'header' or 'cookie', not 'bearer'."
        ),
    }


def test_every_default_passes_its_own_checks(settings: Any) -> None:
    from refreshauth.conf import DEFAULTS

    settings.CACHES = LOCMEM
    assert ids(settings, dict(DEFAULTS)) == []
