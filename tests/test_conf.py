"""Settings are read live from ``REFRESHAUTH``, from one table of defaults and rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings

from refreshauth.conf import DEFAULTS, SETTINGS, Setting, Settings
from refreshauth.conf import settings as conf


def test_defaults_without_a_refreshauth_setting(settings: Any) -> None:
    del settings.REFRESHAUTH
    assert conf.ACCESS_TOKEN_LIFETIME == timedelta(minutes=15)
    assert conf.ACCESS_TOKEN_TRANSPORT == "header"
    assert conf.ACCESS_COOKIE_NAME == "access_token"
    assert conf.ACCESS_COOKIE_PATH == "/"


def test_values_are_read_at_each_access(settings: Any) -> None:
    settings.REFRESHAUTH = {"ACCESS_TOKEN_TRANSPORT": "cookie"}
    assert conf.ACCESS_TOKEN_TRANSPORT == "cookie"
    assert conf.REFRESH_TOKEN_TRANSPORT == "body"
    settings.REFRESHAUTH = {"ACCESS_COOKIE_PATH": "/api/"}
    assert conf.ACCESS_TOKEN_TRANSPORT == "header"
    assert conf.ACCESS_COOKIE_PATH == "/api/"


def test_override_settings_takes_effect() -> None:
    with override_settings(REFRESHAUTH={"LEEWAY": timedelta(seconds=5)}):
        assert conf.LEEWAY == timedelta(seconds=5)
    assert conf.LEEWAY == DEFAULTS["LEEWAY"]


def test_a_refreshauth_setting_that_is_not_a_dict_reads_as_the_defaults(settings: Any) -> None:
    settings.REFRESHAUTH = "not a dict"  # refreshauth.E001 says so
    assert conf.DPOP == "off"


def test_the_table_is_every_setting_once() -> None:
    assert list(SETTINGS) == list(DEFAULTS)
    for name, setting in SETTINGS.items():
        assert getattr(Settings, name) is setting
        assert setting.name == name
        assert DEFAULTS[name] is setting.default


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_each_default_is_of_its_kind_and_keeps_its_rules(name: str) -> None:
    setting: Setting[Any] = SETTINGS[name]
    assert setting.kind.test(setting.default)
    assert all(rule.test(setting.default) for rule in setting.rules)


def test_settings_read_from_given_values() -> None:
    values = Settings({"ACCESS_COOKIE_NAME": "__Host-at"})
    assert values.ACCESS_COOKIE_NAME == "__Host-at"
    assert values.ACCESS_COOKIE_PATH == "/"


@pytest.mark.parametrize(
    "name,value,ok",
    [
        ("MAX_SESSIONS_PER_USER", 3, True),
        ("MAX_SESSIONS_PER_USER", True, False),
        ("AUDIENCE", ["a", "b"], True),
        ("AUDIENCE", ["a", 1], False),
        ("ACCESS_TOKEN_SECRET_FALLBACKS", ("old", b"older"), True),
        ("ACCESS_TOKEN_SECRET_FALLBACKS", "old", False),
        ("SESSION_MAX_LIFETIME", None, True),
        ("ACCESS_TOKEN_LIFETIME", None, False),
        ("ACCESS_COOKIE_NAME", "", False),
        ("ACCESS_COOKIE_PATH", "/", True),
    ],
)
def test_kinds(name: str, value: Any, ok: bool) -> None:
    assert SETTINGS[name].kind.test(value) is ok
