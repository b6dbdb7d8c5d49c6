"""refreshauth: refresh tokens done right for Django REST Framework.

The Python API lives in ``refreshauth.sessions`` and is re-exported here lazily, so that
importing this package loads nothing of Django.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = (
    "ClientInfo",
    "TokenResponse",
    "clear_expired",
    "open_session",
    "rotate",
    "revoke",
    "revoke_all",
    "revoke_sessions",
    "revoke_token",
)
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import sessions

        return getattr(sessions, name)
    raise AttributeError(f"module 'refreshauth' has no attribute {name!r}")
