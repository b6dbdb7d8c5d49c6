"""The one place refreshauth reads its settings: live, typed, with the defaults of the docs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings

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


class Settings:
    """Typed, live view of ``settings.REFRESHAUTH``.

    Every attribute is read from Django's settings at access time, so
    ``override_settings`` and pytest-django's ``settings`` fixture take effect at once.
    Values are validated by the system checks in ``refreshauth.checks``, not here.
    """

    def _get(self, name: str) -> Any:
        return user_settings().get(name, DEFAULTS[name])

    @property
    def ACCESS_TOKEN_LIFETIME(self) -> timedelta:
        return self._get("ACCESS_TOKEN_LIFETIME")  # type: ignore[no-any-return]

    @property
    def REFRESH_TOKEN_LIFETIME(self) -> timedelta:
        return self._get("REFRESH_TOKEN_LIFETIME")  # type: ignore[no-any-return]

    @property
    def SESSION_MAX_LIFETIME(self) -> timedelta | None:
        return self._get("SESSION_MAX_LIFETIME")  # type: ignore[no-any-return]

    @property
    def REUSE_GRACE_PERIOD(self) -> timedelta:
        return self._get("REUSE_GRACE_PERIOD")  # type: ignore[no-any-return]

    @property
    def ACCESS_TOKEN_SECRET(self) -> str | bytes | None:
        return self._get("ACCESS_TOKEN_SECRET")  # type: ignore[no-any-return]

    @property
    def REFRESH_TOKEN_SECRET(self) -> str | bytes | None:
        return self._get("REFRESH_TOKEN_SECRET")  # type: ignore[no-any-return]

    @property
    def ACCESS_TOKEN_SECRET_FALLBACKS(self) -> list[str | bytes] | None:
        return self._get("ACCESS_TOKEN_SECRET_FALLBACKS")  # type: ignore[no-any-return]

    @property
    def REFRESH_TOKEN_SECRET_FALLBACKS(self) -> list[str | bytes] | None:
        return self._get("REFRESH_TOKEN_SECRET_FALLBACKS")  # type: ignore[no-any-return]

    @property
    def ACCESS_TOKEN_PRIVATE_KEY(self) -> str | bytes | None:
        return self._get("ACCESS_TOKEN_PRIVATE_KEY")  # type: ignore[no-any-return]

    @property
    def ACCESS_TOKEN_PRIVATE_KEY_FALLBACKS(self) -> list[str | bytes]:
        return self._get("ACCESS_TOKEN_PRIVATE_KEY_FALLBACKS")  # type: ignore[no-any-return]

    @property
    def ALGORITHM(self) -> str:
        return self._get("ALGORITHM")  # type: ignore[no-any-return]

    @property
    def ISSUER(self) -> str | None:
        return self._get("ISSUER")  # type: ignore[no-any-return]

    @property
    def AUDIENCE(self) -> str | list[str] | None:
        return self._get("AUDIENCE")  # type: ignore[no-any-return]

    @property
    def LEEWAY(self) -> timedelta:
        return self._get("LEEWAY")  # type: ignore[no-any-return]

    @property
    def USER_ID_FIELD(self) -> str:
        return self._get("USER_ID_FIELD")  # type: ignore[no-any-return]

    @property
    def EXTRA_CLAIMS(self) -> str | None:
        return self._get("EXTRA_CLAIMS")  # type: ignore[no-any-return]

    @property
    def MAX_SESSIONS_PER_USER(self) -> int | None:
        return self._get("MAX_SESSIONS_PER_USER")  # type: ignore[no-any-return]

    @property
    def LOGIN_RATE(self) -> str | None:
        return self._get("LOGIN_RATE")  # type: ignore[no-any-return]

    @property
    def LOGIN_ACCOUNT_RATE(self) -> str | None:
        return self._get("LOGIN_ACCOUNT_RATE")  # type: ignore[no-any-return]

    @property
    def REFRESH_RATE(self) -> str | None:
        return self._get("REFRESH_RATE")  # type: ignore[no-any-return]

    @property
    def REFRESH_TOKEN_TRANSPORT(self) -> str:
        return self._get("REFRESH_TOKEN_TRANSPORT")  # type: ignore[no-any-return]

    @property
    def REFRESH_COOKIE_NAME(self) -> str:
        return self._get("REFRESH_COOKIE_NAME")  # type: ignore[no-any-return]

    @property
    def REFRESH_COOKIE_SECURE(self) -> bool:
        return self._get("REFRESH_COOKIE_SECURE")  # type: ignore[no-any-return]

    @property
    def REFRESH_COOKIE_SAMESITE(self) -> str | None:
        return self._get("REFRESH_COOKIE_SAMESITE")  # type: ignore[no-any-return]

    @property
    def REFRESH_COOKIE_PATH(self) -> str | None:
        return self._get("REFRESH_COOKIE_PATH")  # type: ignore[no-any-return]

    @property
    def REFRESH_COOKIE_DOMAIN(self) -> str | None:
        return self._get("REFRESH_COOKIE_DOMAIN")  # type: ignore[no-any-return]

    @property
    def REVOKE_ACCESS_TOKENS(self) -> bool:
        return self._get("REVOKE_ACCESS_TOKENS")  # type: ignore[no-any-return]

    @property
    def CACHE_ALIAS(self) -> str:
        return self._get("CACHE_ALIAS")  # type: ignore[no-any-return]

    @property
    def cookie_transport(self) -> bool:
        return self.REFRESH_TOKEN_TRANSPORT == "cookie"


settings = Settings()
