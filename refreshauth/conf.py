"""The one place refreshauth reads its settings: live, typed, with the defaults of the docs.

Each key of ``REFRESHAUTH`` is written once, as a ``Setting`` on ``Settings`` below: its
default, the kind of value it takes (which is also the attribute's type), and the rules
that its value alone must meet, each naming the system check id that reports a breach.
``refreshauth.checks`` reports from this table and adds the rules that need more than
one value; ``tests/test_docs.py`` holds the docs to it. Adding a setting is adding one
line here, and its rows to README.md and docs/settings.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Generic, TypeVar, cast, overload

from django.conf import settings as django_settings

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class Kind(Generic[T]):
    """The type a setting's value must have (refreshauth.E003 otherwise): a test that a
    value is a ``T``, and how messages name ``T``."""

    def __init__(self, test: Callable[[object], bool], description: str) -> None:
        self.test = test
        self.description = description


def optional(kind: Kind[T]) -> Kind[T | None]:
    """``kind``, or ``None``."""
    return Kind(lambda value: value is None or kind.test(value), f"{kind.description} or None")


def _is_key(value: object) -> bool:
    return isinstance(value, str | bytes)


def _is_list_of(test: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda value: isinstance(value, list | tuple) and all(test(v) for v in value)


def _is_str(value: object) -> bool:
    return isinstance(value, str)


DURATION: Kind[timedelta] = Kind(lambda v: isinstance(v, timedelta), "a timedelta")
FLAG: Kind[bool] = Kind(lambda v: isinstance(v, bool), "a bool")
COUNT: Kind[int] = Kind(lambda v: isinstance(v, int) and not isinstance(v, bool), "an int")
TEXT: Kind[str] = Kind(_is_str, "a str")
NAME: Kind[str] = Kind(lambda v: isinstance(v, str) and bool(v), "a non-empty str")
NAMES: Kind[list[str]] = Kind(_is_list_of(_is_str), "a list of str")
KEY: Kind[str | bytes] = Kind(_is_key, "a str or bytes")
KEYS: Kind[list[str | bytes]] = Kind(_is_list_of(_is_key), "a list of str or bytes")
AUDIENCES: Kind[str | list[str]] = Kind(
    lambda v: _is_str(v) or _is_list_of(_is_str)(v), "a str or a list of str"
)


class Rule(Generic[T_contra]):
    """What a value of the right kind must also be, on its own: ``test``, and the error
    ``refreshauth.E<error>`` whose message says the value "<message>, not <value>"."""

    def __init__(
        self,
        error: int,
        test: Callable[[T_contra], bool],
        message: str,
        hint: str | None = None,
    ) -> None:
        self.error = error
        self.test = test
        self.message = message
        self.hint = hint


def one_of(error: int, *choices: str | None) -> Rule[str | None]:
    """The value is one of ``choices``."""
    names = [repr(c) for c in choices]
    return Rule(error, lambda v: v in choices, f"must be {', '.join(names[:-1])} or {names[-1]}")


RATE_RE = re.compile(r"^\d+/\d*[smhd]$", re.IGNORECASE)
ZERO = timedelta(0)
# Rules pass None: whether a setting takes None is its kind's business.
POSITIVE: Rule[timedelta | None] = Rule(4, lambda v: v is None or v > ZERO, "must be positive")
NOT_NEGATIVE: Rule[timedelta] = Rule(4, lambda v: v >= ZERO, "must not be negative")
RATE: Rule[str | None] = Rule(
    13, lambda v: v is None or bool(RATE_RE.match(v)), "must be a rate such as '5/m' or '100/h'"
)
COOKIE_PATH: Rule[str | None] = Rule(
    14,
    lambda v: v is None or v.startswith("/"),
    "must start with '/' (browsers ignore any other cookie Path)",
)


class Setting(Generic[T]):
    """One key of ``REFRESHAUTH``. On a ``Settings`` instance it reads as the key's value,
    looked up at each access and falling back to ``default``; on the class, as itself."""

    name: str

    def __init__(self, default: T, kind: Kind[T], *rules: Rule[T]) -> None:
        self.default = default
        self.kind = kind
        self.rules = rules

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> Setting[T]: ...

    @overload
    def __get__(self, instance: Settings, owner: type | None = None) -> T: ...

    def __get__(self, instance: Settings | None, owner: type | None = None) -> Setting[T] | T:
        if instance is None:
            return self
        values = user_settings() if instance._values is None else instance._values
        return cast(T, values.get(self.name, self.default))


class Settings:
    """Typed, live view of ``settings.REFRESHAUTH``, and the table of every key it takes.

    Every attribute is read from Django's settings at access time, so
    ``override_settings`` and pytest-django's ``settings`` fixture take effect at once.
    Values are validated by the system checks in ``refreshauth.checks``, not here.
    ``Settings(values)`` reads from ``values`` instead (the checks read their own).
    """

    # Lifetimes
    ACCESS_TOKEN_LIFETIME = Setting(timedelta(minutes=15), DURATION, POSITIVE)
    REFRESH_TOKEN_LIFETIME = Setting(timedelta(days=7), DURATION, POSITIVE)
    SESSION_MAX_LIFETIME = Setting(timedelta(days=30), optional(DURATION), POSITIVE)
    REUSE_GRACE_PERIOD = Setting(timedelta(0), DURATION)  # E010, W001: checks.py
    LEEWAY = Setting(timedelta(0), DURATION, NOT_NEGATIVE)
    # Keys (algorithms, lengths and key pairs: checks.py)
    ACCESS_TOKEN_SECRET = Setting(None, optional(KEY))
    REFRESH_TOKEN_SECRET = Setting(None, optional(KEY))
    ACCESS_TOKEN_SECRET_FALLBACKS = Setting(None, optional(KEYS))
    REFRESH_TOKEN_SECRET_FALLBACKS = Setting(None, optional(KEYS))
    ACCESS_TOKEN_PRIVATE_KEY = Setting(None, optional(KEY))
    ACCESS_TOKEN_PRIVATE_KEY_FALLBACKS = Setting([], KEYS)
    ALGORITHM = Setting("HS256", TEXT)
    ISSUER = Setting(None, optional(TEXT))
    AUDIENCE = Setting(None, optional(AUDIENCES))
    # Claims
    USER_ID_FIELD = Setting("pk", TEXT)
    EXTRA_CLAIMS = Setting(None, optional(TEXT))
    # Sessions and rate limits
    MAX_SESSIONS_PER_USER = Setting(
        None,
        optional(COUNT),
        Rule(18, lambda v: v is None or v >= 1, "must be a positive integer or None"),
    )
    LOGIN_RATE = Setting("5/m", optional(TEXT), RATE)
    LOGIN_ACCOUNT_RATE = Setting("100/h", optional(TEXT), RATE)
    REFRESH_RATE = Setting("30/m", optional(TEXT), RATE)
    # Cookie transport (the access cookie shares SECURE, SAMESITE and DOMAIN)
    REFRESH_TOKEN_TRANSPORT = Setting("body", TEXT, one_of(8, "body", "cookie"))
    REFRESH_COOKIE_NAME = Setting("refresh_token", NAME)
    REFRESH_COOKIE_SECURE = Setting(True, FLAG)
    REFRESH_COOKIE_SAMESITE = Setting(
        "Strict", optional(TEXT), one_of(14, "Strict", "Lax", "None", None)
    )
    REFRESH_COOKIE_PATH = Setting(None, optional(TEXT), COOKIE_PATH)  # None: the URL prefix
    REFRESH_COOKIE_DOMAIN = Setting(None, optional(TEXT))
    ACCESS_TOKEN_TRANSPORT = Setting("header", TEXT, one_of(24, "header", "cookie"))
    ACCESS_COOKIE_NAME = Setting("access_token", NAME)
    ACCESS_COOKIE_PATH = Setting("/", TEXT, COOKIE_PATH)
    # Revocation of access tokens
    REVOKE_ACCESS_TOKENS = Setting(True, FLAG)
    CACHE_ALIAS = Setting("default", TEXT)
    SESSION_CACHE_TTL = Setting(timedelta(minutes=1), DURATION, POSITIVE)
    # DPoP
    DPOP = Setting("off", TEXT, one_of(20, "off", "allowed", "required"))
    DPOP_ALGORITHMS = Setting(["ES256", "EdDSA", "RS256", "PS256"], NAMES)
    DPOP_PROOF_MAX_AGE = Setting(
        timedelta(seconds=60),
        DURATION,
        Rule(
            23,
            lambda v: ZERO < v <= timedelta(minutes=5),
            "must be positive and at most 5 minutes: a proof is made for one request, now",
        ),
    )

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._values = values


SETTINGS: dict[str, Setting[Any]] = {
    name: value for name, value in vars(Settings).items() if isinstance(value, Setting)
}
DEFAULTS: dict[str, Any] = {name: setting.default for name, setting in SETTINGS.items()}


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


settings = Settings()
