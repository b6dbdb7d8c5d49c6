"""What a session hands out: its access and refresh tokens, the token response, and
the password fingerprint that ties a session to the password it was opened with.

Pure but for the settings and the key rings: no database, no HTTP.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.module_loading import import_string

from . import tokens
from .conf import settings
from .models import RefreshToken

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    User = AbstractBaseUser
else:
    User = Any

__all__ = [
    "TokenResponse",
    "access_token",
    "current_fingerprint",
    "fingerprint_of",
    "from_timestamp",
    "now",
    "password_fingerprint",
    "refresh_token",
    "response",
    "seconds",
    "user_subject",
]


def now() -> datetime:
    """The current time; the one clock of the lifecycle."""
    return timezone.now()


def from_timestamp(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=dt_timezone.utc)


def seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


@dataclass(frozen=True)
class TokenResponse:
    """A new access token and the session's current refresh token (RFC 6749 §5.1)."""

    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    session: RefreshToken = field(repr=False)
    token_type: str = "Bearer"

    def as_dict(self, *, include_refresh_token: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
        }
        if include_refresh_token:
            data["refresh_token"] = self.refresh_token
        data["refresh_expires_in"] = self.refresh_expires_in
        return data


# --- claims and tokens -------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _extra_claims_function(path: str) -> Callable[[Any], dict[str, Any]]:
    return import_string(path)  # type: ignore[no-any-return]


def user_subject(user: User) -> str:
    """The ``sub`` claim of ``user``: its ``USER_ID_FIELD`` as a string."""
    return str(getattr(user, settings.USER_ID_FIELD))


def access_token(user: User, sid: str, iat: int, jkt: str = "") -> tuple[str, int]:
    lifetime = seconds(settings.ACCESS_TOKEN_LIFETIME)
    claims: dict[str, Any] = {}
    if settings.EXTRA_CLAIMS:
        extra = _extra_claims_function(settings.EXTRA_CLAIMS)(user) or {}
        claims.update({k: v for k, v in extra.items() if k not in tokens.REGISTERED_CLAIMS})
    claims.update(
        sub=user_subject(user), iat=iat, exp=iat + lifetime, jti=tokens.new_jti(), sid=sid
    )
    if settings.ISSUER is not None:
        claims["iss"] = settings.ISSUER
    if settings.AUDIENCE is not None:
        claims["aud"] = settings.AUDIENCE
    if jkt:
        claims["cnf"] = {"jkt": jkt}  # RFC 9449 §6: bound to the session's DPoP key
    return tokens.encode(claims, tokens.access_keys().current, tokens.ACCESS_TYP), lifetime


def refresh_token(sub: str, sid: str, jti: str, iat: int, exp: int) -> str:
    claims = {"sub": sub, "sid": sid, "jti": jti, "iat": iat, "exp": exp}
    return tokens.encode(claims, tokens.refresh_keys().current, tokens.REFRESH_TYP)


def response(user: User, session: RefreshToken, jti: str, iat: int, exp: int) -> TokenResponse:
    sid = str(session.pk)
    access, expires_in = access_token(user, sid, int(now().timestamp()), session.dpop_jkt)
    return TokenResponse(
        access_token=access,
        refresh_token=refresh_token(user_subject(user), sid, jti, iat, exp),
        expires_in=expires_in,
        refresh_expires_in=exp - iat,
        session=session,
        token_type="DPoP" if session.dpop_jkt else "Bearer",
    )


def password_fingerprint(user: User, key: tokens.SigningKey | None = None) -> str:
    """A salted HMAC of the user's password hash: it changes whenever the password does,
    and reveals nothing of it. Keyed with the refresh key, so rotating that key with a
    fallback ends no session."""
    return fingerprint_of(getattr(user, "password", "") or "", key)


def fingerprint_of(password_hash: str, key: tokens.SigningKey | None = None) -> str:
    """``password_fingerprint()`` of a password hash."""
    key = key or tokens.refresh_keys().current
    return salted_hmac(
        "refreshauth.sessions.PasswordFingerprint",
        password_hash,
        secret=key.signing,
        algorithm="sha256",
    ).hexdigest()


def current_fingerprint(user: User, stored: str) -> str | None:
    """The fingerprint of ``user``'s password with the current refresh key when ``stored``
    is one of it with any refresh key (a fallback included), else None."""
    ring = tokens.refresh_keys()
    current = password_fingerprint(user, ring.current)
    if constant_time_compare(current, stored):
        return current
    for key in ring.by_kid.values():
        if key is not ring.current and constant_time_compare(
            password_fingerprint(user, key), stored
        ):
            return current
    return None
