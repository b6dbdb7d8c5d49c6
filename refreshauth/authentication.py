"""The DRF authentication class for refreshauth's access tokens."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from . import tokens
from .conf import settings
from .exceptions import (
    InvalidToken,
    RefreshAuthError,
    RevokedToken,
    ServiceUnavailable,
    TokenError,
)
from .sessions import is_session_revoked, user_subject
from .users import load_user

MAX_HEADER_LENGTH = 8192


class AuthenticationFailed(exceptions.AuthenticationFailed):
    """A 401 whose body carries refreshauth's ``code`` beside ``detail``, whatever
    exception handler the project uses."""

    def __init__(self, error: RefreshAuthError) -> None:
        super().__init__(detail={"detail": error.detail, "code": error.code}, code=error.code)


class Unavailable(exceptions.APIException):
    status_code = 503
    default_code = "service_unavailable"

    def __init__(self, error: ServiceUnavailable) -> None:
        super().__init__(detail={"detail": error.detail, "code": error.code}, code=error.code)
        self.wait = error.retry_after


def bearer_token(request: Request) -> str | None:
    """The credential of an ``Authorization: Bearer`` header, or None for any other scheme.

    Raises ``InvalidToken`` for a Bearer header without exactly one credential.
    """
    header: str = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    credential = credential.strip(" ")
    if not credential or " " in credential or len(header) > MAX_HEADER_LENGTH:
        raise InvalidToken()
    return credential


class AccessTokenAuthentication(BaseAuthentication):
    """Authenticates ``Authorization: Bearer <access token>``.

    ``request.user`` is the token's active user and ``request.auth`` its verified claims
    (a dict with ``sid``, the session id). One primary-key query and, with
    ``REVOKE_ACCESS_TOKENS``, one cache read per request; when the cache does not know
    the session, one more primary-key query (``refreshauth.state``).
    """

    www_authenticate_realm = "api"

    def authenticate(self, request: Request) -> tuple[Any, dict[str, Any]] | None:
        try:
            token = bearer_token(request)
            if token is None:
                return None
            claims = tokens.decode_access(token)
            if settings.REVOKE_ACCESS_TOKENS and is_session_revoked(claims["sid"]):
                raise RevokedToken()
            user = self._user(claims["sub"])
        except ServiceUnavailable as exc:
            raise Unavailable(exc) from None
        except TokenError as exc:
            raise AuthenticationFailed(exc) from None
        return user, claims

    def _user(self, sub: str) -> Any:
        user = load_user(sub)
        if user is None or not getattr(user, "is_active", True):
            raise RevokedToken()
        if user_subject(user) != sub:
            # " 1" or "01" found user 1 through the field's conversion: not its token.
            raise InvalidToken()
        return user

    def authenticate_header(self, request: Request) -> str:
        value = f'Bearer realm="{self.www_authenticate_realm}"'
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header.partition(" ")[0].lower() == "bearer":
            value += ', error="invalid_token"'
        return value
