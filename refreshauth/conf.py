"""The one place refreshauth reads its settings: live, typed, with the defaults of the docs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Generic, TypeVar

from django.conf import settings as django_settings

T = TypeVar("T")

DEFAULTS: dict[str, Any] = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "SESSION_MAX_LIFETIME": timedelta(days=30),
    "REUSE_GRACE_PERIOD": timedelta(0),
    "ACCESS_TOKEN_SECRET": None,
    "REFRESH_TOKEN_SECRET": None,
    "ACCESS_TOKEN_SECRET_FALLBACKS": None,
    "REFRESH_TOKEN_SECRET_FALLBACKS": None,
    "ACCESS_TOKEN_PRIVATE_KEY": None,
    "ACCESS_TOKEN_PRIVATE_KEY_FALLBACKS": [],
    "ALGORITHM": "HS256",
    "ISSUER": None,
    "AUDIENCE": None,
    "LEEWAY": timedelta(0),
    "USER_ID_FIELD": "pk",
    "EXTRA_CLAIMS": None,
    "MAX_SESSIONS_PER_USER": None,
    "LOGIN_RATE": "5/m",
    "LOGIN_ACCOUNT_RATE": "100/h",
    "REFRESH_RATE": "30/m",
    "REFRESH_TOKEN_TRANSPORT": "body",
    "REFRESH_COOKIE_NAME": "refresh_token",
    "REFRESH_COOKIE_SECURE": True,
    "REFRESH_COOKIE_SAMESITE": "Strict",
    "REFRESH_COOKIE_PATH": None,
    "REFRESH_COOKIE_DOMAIN": None,
    "REVOKE_ACCESS_TOKENS": True,
    "CACHE_ALIAS": "default",
    "SESSION_CACHE_TTL": timedelta(minutes=1),
    "DPOP": "off",
    "DPOP_ALGORITHMS": ["ES256", "EdDSA", "RS256", "PS256"],
    "DPOP_PROOF_MAX_AGE": timedelta(seconds=60),
}


def user_settings() -> dict[str, Any]:
    """The project's ``REFRESHAUTH`` dict, or an empty one."""
    value = getattr(django_settings, "REFRESHAUTH", None)
    return value if isinstance(value, dict) else {}


def urls_prefix() -> str | None:
    """The path under which ``refreshauth.urls`` is included (the cookie's default Path)."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("refreshauth:login")[: -len("login/")]
    except NoReverseMatch:
        return None


class _Setting(Generic[T]):
    """One key of ``REFRESHAUTH``, read at each access, falling back to its default."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> T:
        return user_settings().get(self.name, DEFAULTS[self.name])  # type: ignore[no-any-return]


class Settings:
    """Typed, live view of ``settings.REFRESHAUTH``.

    Every attribute is read from Django's settings at access time, so
    ``override_settings`` and pytest-django's ``settings`` fixture take effect at once.
    Values are validated by the system checks in ``refreshauth.checks``, not here.
    """

    ACCESS_TOKEN_LIFETIME: _Setting[timedelta] = _Setting()
    REFRESH_TOKEN_LIFETIME: _Setting[timedelta] = _Setting()
    SESSION_MAX_LIFETIME: _Setting[timedelta | None] = _Setting()
    REUSE_GRACE_PERIOD: _Setting[timedelta] = _Setting()
    ACCESS_TOKEN_SECRET: _Setting[str | bytes | None] = _Setting()
    REFRESH_TOKEN_SECRET: _Setting[str | bytes | None] = _Setting()
    ACCESS_TOKEN_SECRET_FALLBACKS: _Setting[list[str | bytes] | None] = _Setting()
    REFRESH_TOKEN_SECRET_FALLBACKS: _Setting[list[str | bytes] | None] = _Setting()
    ACCESS_TOKEN_PRIVATE_KEY: _Setting[str | bytes | None] = _Setting()
    ACCESS_TOKEN_PRIVATE_KEY_FALLBACKS: _Setting[list[str | bytes]] = _Setting()
    ALGORITHM: _Setting[str] = _Setting()
    ISSUER: _Setting[str | None] = _Setting()
    AUDIENCE: _Setting[str | list[str] | None] = _Setting()
    LEEWAY: _Setting[timedelta] = _Setting()
    USER_ID_FIELD: _Setting[str] = _Setting()
    EXTRA_CLAIMS: _Setting[str | None] = _Setting()
    MAX_SESSIONS_PER_USER: _Setting[int | None] = _Setting()
    LOGIN_RATE: _Setting[str | None] = _Setting()
    LOGIN_ACCOUNT_RATE: _Setting[str | None] = _Setting()
    REFRESH_RATE: _Setting[str | None] = _Setting()
    REFRESH_TOKEN_TRANSPORT: _Setting[str] = _Setting()
    REFRESH_COOKIE_NAME: _Setting[str] = _Setting()
    REFRESH_COOKIE_SECURE: _Setting[bool] = _Setting()
    REFRESH_COOKIE_SAMESITE: _Setting[str | None] = _Setting()
    REFRESH_COOKIE_PATH: _Setting[str | None] = _Setting()
    REFRESH_COOKIE_DOMAIN: _Setting[str | None] = _Setting()
    REVOKE_ACCESS_TOKENS: _Setting[bool] = _Setting()
    CACHE_ALIAS: _Setting[str] = _Setting()
    SESSION_CACHE_TTL: _Setting[timedelta] = _Setting()
    DPOP: _Setting[str] = _Setting()
    DPOP_ALGORITHMS: _Setting[list[str]] = _Setting()
    DPOP_PROOF_MAX_AGE: _Setting[timedelta] = _Setting()


settings = Settings()
