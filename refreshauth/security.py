"""Security events in the log: one record per event on the ``refreshauth.security``
logger, the hook for a SIEM beside the signals.

Each record's message names the event, and its ``extra`` carries ``event``, ``user_id``,
``session_id`` and ``client_ip`` (plus ``reason`` for a revocation): never a token, a
proof or a password.

| event | level | when |
|---|---|---|
| ``refresh_token_reused`` | WARNING | a rotated refresh token came back: the session is revoked |
| ``session_revoked`` | INFO | any revocation, with its reason |
| ``login_rate_limited`` | WARNING | a login refused by ``LOGIN_RATE`` or ``LOGIN_ACCOUNT_RATE`` |
| ``dpop_proof_refused`` | WARNING | a missing or bad DPoP proof at login, refresh or the API |
"""

from __future__ import annotations

import logging
from typing import Any

from .clients import client_ip

__all__ = ["logger", "record"]

logger = logging.getLogger("refreshauth.security")

LEVELS = {
    "refresh_token_reused": logging.WARNING,
    "session_revoked": logging.INFO,
    "login_rate_limited": logging.WARNING,
    "dpop_proof_refused": logging.WARNING,
}


def record(
    event: str,
    *,
    request: Any = None,
    user_id: object = None,
    session_id: object = None,
    **fields: str,
) -> None:
    """Log security event ``event`` with who and where it concerns."""
    level = LEVELS[event]
    if not logger.isEnabledFor(level):
        return
    address = client_ip(request) if request is not None and hasattr(request, "META") else None
    extra = {
        "event": event,
        "user_id": None if user_id is None else str(user_id),
        "session_id": None if session_id is None else str(session_id),
        "client_ip": address,
        **fields,
    }
    details = "".join(f" {name}={value}" for name, value in fields.items())
    logger.log(
        level,
        "%s user=%s session=%s client=%s%s",
        event,
        extra["user_id"],
        extra["session_id"],
        address,
        details,
        extra=extra,
    )
