"""refreshauth: refresh tokens done right for Django REST Framework.

The Python API lives in ``refreshauth.sessions`` and is re-exported here lazily, so that
importing this package loads nothing of Django.

Where things are, from the lifecycle outwards:

- ``sessions``: the lifecycle, in one file: open, rotate, revoke, revoke_all,
  clear_expired, the live sessions, the password-rehash rule. Knows no HTTP.
- Beside it, each holding one job: ``minting`` (the tokens and token response a session
  hands out, password fingerprints), ``state`` (the cache of CACHE_ALIAS: sessions'
  revocation state read through, DPoP proofs seen), ``queries`` (the hot statements,
  equal to the ORM), ``users`` (the token's user), ``clients`` (what is kept of a
  client), ``security`` (security events in the log).
- Pure, no database: ``tokens`` (the JWT codec), ``keys`` (key rings, JWKS), ``dpop``
  (RFC 9449 proofs), ``devices`` (labels from user agents).
- Settings: ``conf`` (one table: default, type, rules) and ``checks`` (system checks).
- Callers of the lifecycle: ``views`` and ``urls`` (HTTP; ``mounts`` knows the URLconf),
  ``authentication`` (the DRF class), ``ratelimit``, ``receivers`` (account changes),
  ``admin``, ``management/commands/clearrefreshtokens``, ``contrib`` (allauth, axes),
  ``openapi`` (drf-spectacular).
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
