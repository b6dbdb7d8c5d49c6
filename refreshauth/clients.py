"""What refreshauth records of a client: its address and user agent.

``client_ip()`` reads the address the way the rate limits count it (``REMOTE_ADDR``, or
the trusted proxy header named by django-ratelimit's ``RATELIMIT_IP_META_KEY``);
``ClientInfo`` is what a session keeps of the client that opened or last refreshed it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings
from django.http import HttpRequest
from django.utils.module_loading import import_string

__all__ = ["USER_AGENT_MAX_LENGTH", "ClientInfo", "client_ip", "normalize_ip"]

USER_AGENT_MAX_LENGTH = 512


@dataclass(frozen=True)
class ClientInfo:
    """What is recorded of the client that logs in or refreshes."""

    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def clean(cls, ip_address: str | None, user_agent: str | None) -> ClientInfo:
        """A ClientInfo whose address is a valid IP (or None) and whose agent fits its column."""
        return cls(normalize_ip(ip_address), (user_agent or "")[:USER_AGENT_MAX_LENGTH])


def normalize_ip(value: str | None) -> str | None:
    """``value`` as a canonical IP address without an IPv6 zone, or None."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip().split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d: they are IPv4.
        return str(address.ipv4_mapped)
    return str(address)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, unless the site names a trusted proxy's
    header in django-ratelimit's ``RATELIMIT_IP_META_KEY``. None when it is not an IP.

    A comma-separated forwarded header gives its last entry, the one the nearest proxy
    wrote; the entries before it are the client's to forge.
    """
    meta_key = getattr(django_settings, "RATELIMIT_IP_META_KEY", None)
    value: Any
    if not meta_key:
        value = request.META.get("REMOTE_ADDR")
    elif callable(meta_key):
        value = meta_key(request)
    elif "." in meta_key:
        value = import_string(meta_key)(request)
    else:
        value = request.META.get(meta_key)
    if not isinstance(value, str):
        return None
    return normalize_ip(value.rsplit(",", 1)[-1])


def from_request(request: HttpRequest) -> ClientInfo:
    """The ``ClientInfo`` of ``request``."""
    return ClientInfo.clean(client_ip(request), request.META.get("HTTP_USER_AGENT"))
