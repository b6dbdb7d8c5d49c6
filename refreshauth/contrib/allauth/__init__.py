"""refreshauth for django-allauth's headless app clients (``pip install refreshauth[allauth]``).

::

    INSTALLED_APPS = [..., "allauth.headless", "refreshauth", "refreshauth.contrib.allauth"]
    HEADLESS_TOKEN_STRATEGY = "refreshauth.contrib.allauth.RefreshAuthTokenStrategy"

Every login that allauth completes for an app client (password, social, MFA, passkey,
code) opens a refreshauth session, and its response carries refreshauth's tokens.
``RefreshAuthTokenStrategy`` is loaded lazily, so that listing this package in
``INSTALLED_APPS`` imports no model before Django is ready.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RefreshAuthTokenStrategy"]


def __getattr__(name: str) -> Any:
    if name == "RefreshAuthTokenStrategy":
        from .strategy import RefreshAuthTokenStrategy

        return RefreshAuthTokenStrategy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
