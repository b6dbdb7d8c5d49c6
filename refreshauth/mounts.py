"""What the URLconf mounts of refreshauth: whether some view is served with a given
transport (``refreshauth.urls.patterns(...)``), walked once per URLconf."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

from django.urls import URLResolver, get_resolver

__all__ = ["serves"]

_found: weakref.WeakKeyDictionary[URLResolver, dict[tuple[str, str], bool]] = (
    weakref.WeakKeyDictionary()
)


def _walk(patterns: Sequence[Any], name: str, value: str) -> bool:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if _walk(pattern.url_patterns, name, value):
                return True
            continue
        initkwargs = getattr(pattern.callback, "view_initkwargs", None) or {}
        if initkwargs.get(name) == value:
            return True
    return False


def serves(name: str, value: str, urlconf: str | None = None) -> bool:
    """Whether ``urlconf`` (the project's by default) serves a view whose init argument
    ``name`` is ``value``, e.g. ``serves("transport", "cookie")``."""
    resolver = get_resolver(urlconf)
    known = _found.setdefault(resolver, {})
    key = (name, value)
    if key not in known:
        known[key] = _walk(resolver.url_patterns, name, value)
    return known[key]
