"""Rate limits on login and refresh, counted by django-ratelimit's core with keys computed
here (its ``post:`` keys cannot read a JSON body)."""

from __future__ import annotations

import hashlib
import ipaddress
import unicodedata
from collections.abc import Callable
from typing import Any

from django.conf import settings as django_settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage  # type: ignore[import-untyped]

from .clients import client_ip
from .conf import settings
from .exceptions import RateLimited, ServiceUnavailable

# The one bucket of clients whose address cannot be read (not an address to bind to).
UNKNOWN_IP = "0.0.0.0"  # noqa: S104


def _network(ip: str | None) -> str:
    """IPv6 clients are counted per /64 (django-ratelimit's default mask), like IPv4 per host."""
    if ip is None:
        return UNKNOWN_IP
    address = ipaddress.ip_address(ip)
    mask = 64 if address.version == 6 else 32
    mask = getattr(
        django_settings,
        "RATELIMIT_IPV6_MASK" if address.version == 6 else "RATELIMIT_IPV4_MASK",
        mask,
    )
    return str(ipaddress.ip_network(f"{ip}/{mask}", strict=False).network_address)


def _username_key(username: str) -> str:
    # Case and Unicode look-alikes must not give an attacker fresh attempts.
    folded = unicodedata.normalize("NFKC", username).casefold()
    return hashlib.sha256(folded.encode()).hexdigest()


def _usage(request: HttpRequest, group: str, rate: str, value: str, increment: bool) -> Any:
    """django-ratelimit's count; ``ServiceUnavailable`` when its cache could not count
    (rate limits fail closed, whatever ``RATELIMIT_FAIL_OPEN`` says)."""
    key: Callable[[str, HttpRequest], str] = lambda _group, _request: value  # noqa: E731
    try:
        usage = get_usage(request, group=group, key=key, rate=rate, increment=increment)
    except Exception as exc:  # a cache backend that cannot answer
        raise ServiceUnavailable() from exc
    if usage is None or _failed(usage):
        raise ServiceUnavailable()
    return usage


def _limits(request: HttpRequest, username: str) -> list[tuple[str, str, str]]:
    user_key = _username_key(username)
    limits = []
    if settings.LOGIN_RATE:
        value = f"{_network(client_ip(request))}:{user_key}"
        limits.append(("refreshauth.login", settings.LOGIN_RATE, value))
    if settings.LOGIN_ACCOUNT_RATE:
        limits.append(("refreshauth.login_account", settings.LOGIN_ACCOUNT_RATE, user_key))
    return limits


def _failed(usage: Any) -> bool:
    # django-ratelimit's answer when its cache could not count (it fails closed).
    return bool(usage["should_limit"]) and usage["time_left"] < 0 and usage["limit"] == 0


def check_login(request: HttpRequest, username: str) -> None:
    """Count this attempt, before the password is checked, and raise ``RateLimited`` when
    this client and username, or this username from everywhere, has used up its failed
    logins. Counting first holds the limit under concurrency (parallel guesses each take
    a count); ``record_login_success()`` gives a successful attempt back."""
    for group, rate, value in _limits(request, username):
        attempts = _usage(request, group, rate, value, increment=True)
        succeeded = _usage(request, f"{group}.ok", rate, value, increment=False)
        failures = attempts["count"] - succeeded["count"]
        if failures > attempts["limit"]:
            raise RateLimited(attempts["time_left"])


def record_login_success(request: HttpRequest, username: str) -> None:
    """A successful login is not a failed one: count it back (same keys, same windows)."""
    for group, rate, value in _limits(request, username):
        _usage(request, f"{group}.ok", rate, value, increment=True)


def check_refresh(request: HttpRequest, sid: str) -> None:
    """Count one refresh of session ``sid``; raise ``RateLimited`` past ``REFRESH_RATE``."""
    rate = settings.REFRESH_RATE
    if rate:
        usage = _usage(request, "refreshauth.refresh", rate, sid, increment=True)
        if usage["count"] > usage["limit"]:
            raise RateLimited(usage["time_left"])
