"""The HTTP API: thin views that validate input, call the lifecycle, and answer."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, cast

from django.contrib.auth import authenticate, get_user_model, user_logged_in
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import InterfaceError, OperationalError, transaction
from django.http import Http404, HttpRequest, QueryDict
from django.middleware.csrf import get_token, rotate_token
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from . import clients, minting, ratelimit, security, sessions, tokens
from .authentication import AccessTokenAuthentication, enforce_csrf, request_proof
from .authentication import CSRFFailed as CSRFFailed  # its home before the access cookie
from .clients import ClientInfo
from .conf import settings, urls_prefix
from .exceptions import (
    InvalidCredentials,
    InvalidDPoPProof,
    RateLimited,
    RefreshAuthError,
    ServiceUnavailable,
    TokenError,
)
from .models import RevokeReason
from .parsers import StrictFormParser, StrictJSONParser
from .serializers import (
    LoginSerializer,
    LogoutAllSerializer,
    LogoutSerializer,
    RefreshSerializer,
    SessionSerializer,
)

logger = logging.getLogger("refreshauth")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
EXPIRED = "Thu, 01 Jan 1970 00:00:00 GMT"


class UnsupportedGrantType(exceptions.ValidationError):
    pass


def _error_body(detail: Any, code: str) -> dict[str, Any]:
    return {"detail": str(detail), "code": code}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus refreshauth's errors and a ``code`` beside every ``detail``.

    Projects may use it as ``REST_FRAMEWORK["EXCEPTION_HANDLER"]`` so that their own
    views answer ``not_authenticated`` and the other codes the same way.
    """
    view = context.get("view")
    if isinstance(exc, OperationalError | InterfaceError) and is_transient(exc):
        # A database that stays locked or is out of reach: try again, not a 500.
        logger.warning("refreshauth: database unavailable: %s", exc)
        exc = ServiceUnavailable()
    elif isinstance(exc, ServiceUnavailable):
        logger.warning("refreshauth: service unavailable: %r", exc.__cause__)
    if isinstance(exc, RefreshAuthError):
        headers: dict[str, str] = {}
        data = _error_body(exc.detail, exc.code)
        if isinstance(exc, RateLimited | ServiceUnavailable):
            status_code = 429 if isinstance(exc, RateLimited) else 503
            headers["Retry-After"] = str(exc.retry_after)
        elif isinstance(exc, InvalidDPoPProof):
            status_code = 400  # RFC 9449 §5.3, in RFC 6749 §5.2's shape
            data["error"] = exc.code
            request = context.get("request")
            security.record(
                "dpop_proof_refused",
                request=getattr(request, "_request", None),
                reason=exc.detail,
            )
        else:
            status_code = 401
        if status_code == 401 and getattr(view, "oauth_errors", False):
            data["error"] = "invalid_grant"
        return Response(data, status=status_code, headers=headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, UnsupportedGrantType):
        response.data = {
            "error": "unsupported_grant_type",
            "detail": str(_("Only grant_type=refresh_token is supported.")),
            "code": "unsupported_grant_type",
        }
    elif isinstance(exc, exceptions.APIException) and not isinstance(exc.detail, list | dict):
        response.data = _error_body(exc.detail, str(exc.detail.code))
    return response


# PostgreSQL SQLSTATE classes of errors that pass: connection exceptions, transaction
# rollbacks (serialization failures, deadlocks), insufficient resources, operator
# intervention (a server shutting down or starting), system errors; and lock timeouts.
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
_TRANSIENT_SQLSTATES = frozenset({"55P03"})
# MySQL/MariaDB client and server errors that pass: too many connections, lock wait
# timeout, deadlock, server shutdown, can't connect, server gone away, lost connection.
_TRANSIENT_MYSQL_CODES = frozenset({1040, 1053, 1205, 1213, 2002, 2003, 2006, 2013, 2055})
_TRANSIENT_SQLITE_MESSAGES = ("database is locked", "database table is locked")


def is_transient(exc: Exception) -> bool:
    """Whether a database error passes if the client tries again (a lock, a lost or
    refused connection), as opposed to a fault that must stay a loud 500 (a missing
    table, a bad query)."""
    if isinstance(exc, InterfaceError):
        return True  # the connection was closed under the request
    cause = exc.__cause__ or exc
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate:
        return sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES or sqlstate in _TRANSIENT_SQLSTATES
    module = type(cause).__module__
    if module.startswith(("psycopg", "psycopg2")):
        return True  # no SQLSTATE: the server never answered (refused, reset, timed out)
    args = getattr(cause, "args", ())
    if module.startswith("MySQLdb") and args and isinstance(args[0], int):
        return args[0] in _TRANSIENT_MYSQL_CODES
    message = str(exc).lower()
    return any(text in message for text in _TRANSIENT_SQLITE_MESSAGES)


class FirstRendererNegotiation(BaseContentNegotiation):
    """Always JSON, whatever the ``Accept`` header asks for."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> Any:
        return DefaultContentNegotiation().select_parser(request, parsers)

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class RefreshAuthAPIView(APIView):
    """Isolated from the project's ``REST_FRAMEWORK`` defaults."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = [AllowAny]
    parser_classes: list[Any] = [StrictJSONParser]
    renderer_classes: list[Any] = [JSONRenderer]
    throttle_classes: list[Any] = []
    content_negotiation_class = FirstRendererNegotiation
    versioning_class = None
    metadata_class = None
    route = ""
    # "body" or "cookie" for this view alone; None follows REFRESH_TOKEN_TRANSPORT.
    transport: str | None = None
    # "header" or "cookie" for this view alone; None follows ACCESS_TOKEN_TRANSPORT.
    access_transport: str | None = None

    @property
    def cookie_transport(self) -> bool:
        return (self.transport or settings.REFRESH_TOKEN_TRANSPORT) == "cookie"

    @property
    def access_cookie(self) -> bool:
        """Both tokens in cookies: the access cookie needs the refresh cookie, which is
        what renews it."""
        access = self.access_transport or settings.ACCESS_TOKEN_TRANSPORT
        return self.cookie_transport and access == "cookie"

    def get_exception_handler(self) -> Any:
        return exception_handler

    def proof(self, request: Request) -> Any:
        """The request's verified DPoP proof when DPoP is on, else None (section 11)."""
        if settings.DPOP == "off":
            return None
        return request_proof(request._request)

    def client(self, request: Request) -> ClientInfo:
        return clients.from_request(request._request)

    def validated(
        self, serializer_class: type[Any], request: Request, data: Any = None
    ) -> dict[str, Any]:
        serializer = serializer_class(data=request.data if data is None else data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    # --- cookie transport ---------------------------------------------------------

    def enforce_csrf(self, request: Request) -> None:
        """Django's CSRF check, which DRF's views skip; only in cookie transport."""
        if self.cookie_transport:
            enforce_csrf(request._request)

    def cookie_path(self, request: Request) -> str:
        """``REFRESH_COOKIE_PATH``, by default the prefix under which this view is served,
        so that the cookie goes to the auth endpoints only."""
        if settings.REFRESH_COOKIE_PATH is not None:
            return settings.REFRESH_COOKIE_PATH
        path = request._request.path
        if self.route and path.endswith(self.route):
            return path[: -len(self.route)]
        return urls_prefix() or "/"

    def set_refresh_cookie(
        self, request: Request, response: Response, value: str, max_age: int
    ) -> None:
        response.set_cookie(
            settings.REFRESH_COOKIE_NAME,
            value,
            max_age=max_age,
            path=self.cookie_path(request),
            domain=settings.REFRESH_COOKIE_DOMAIN,
            secure=settings.REFRESH_COOKIE_SECURE,
            httponly=True,
            samesite=cast(Any, settings.REFRESH_COOKIE_SAMESITE),
        )

    def set_access_cookie(self, response: Response, value: str, max_age: int) -> None:
        """The access cookie: ``ACCESS_COOKIE_NAME`` and ``ACCESS_COOKIE_PATH``, and the
        refresh cookie's ``Secure``, ``SameSite`` and ``Domain``."""
        response.set_cookie(
            settings.ACCESS_COOKIE_NAME,
            value,
            max_age=max_age,
            path=settings.ACCESS_COOKIE_PATH,
            domain=settings.REFRESH_COOKIE_DOMAIN,
            secure=settings.REFRESH_COOKIE_SECURE,
            httponly=True,
            samesite=cast(Any, settings.REFRESH_COOKIE_SAMESITE),
        )

    def delete_cookies(self, request: Request, response: Response) -> None:
        """Expire the refresh cookie, and the access cookie in its mode, with the
        attributes they were set with (a browser keeps a cookie whose Path or Domain
        differs)."""
        self.set_refresh_cookie(request, response, "", 0)
        names = [settings.REFRESH_COOKIE_NAME]
        if self.access_cookie:
            self.set_access_cookie(response, "", 0)
            names.append(settings.ACCESS_COOKIE_NAME)
        for name in names:
            response.cookies[name]["expires"] = EXPIRED

    def refresh_token_from(self, request: Request, serializer_class: type[Any]) -> str:
        """The refresh token: from the cookie only in cookie transport, else the body."""
        if self.cookie_transport:
            request.data  # noqa: B018 (415 for a body of another type)
            value = request.COOKIES.get(settings.REFRESH_COOKIE_NAME)
            data = {"refresh_token": value} if value else {}
            return str(self.validated(LogoutSerializer, request, data)["refresh_token"])
        return str(self.validated(serializer_class, request)["refresh_token"])

    def token_response(self, request: Request, result: sessions.TokenResponse) -> Response:
        cookie = self.cookie_transport
        body = result.as_dict(include_refresh_token=not cookie)
        access_cookie = self.access_cookie
        if access_cookie:
            del body["access_token"]  # no token reaches the page's JavaScript
        response = Response(body, headers=NO_STORE)
        if cookie:
            remaining = int(result.session.expires_at.timestamp()) - int(minting.now().timestamp())
            self.set_refresh_cookie(request, response, result.refresh_token, max(remaining, 0))
            get_token(request._request)
        if access_cookie:
            self.set_access_cookie(response, result.access_token, result.expires_in)
        return response


class LoginView(RefreshAuthAPIView):
    """POST login/: credentials in, a new session's tokens out."""

    route = "login/"

    def post(self, request: Request) -> Response:
        self.enforce_csrf(request)
        data = self.validated(LoginSerializer, request)
        proof = self.proof(request)  # before the password: a bad proof costs no guess
        username_field = get_user_model().USERNAME_FIELD
        username, password = data[username_field], data["password"]
        http_request: HttpRequest = request._request
        try:
            ratelimit.check_login(http_request, username)
        except RateLimited:
            security.record("login_rate_limited", request=http_request)
            raise
        user = authenticate(http_request, **{username_field: username, "password": password})
        if user is None or not getattr(user, "is_active", True):
            raise InvalidCredentials()  # counted as a failure by check_login()
        ratelimit.record_login_success(http_request, username)
        with transaction.atomic():  # last_login and the new session, or neither
            user_logged_in.send(sender=user.__class__, request=http_request, user=user)
            result = sessions.open_session(
                user,
                client=self.client(request),
                request=http_request,
                proof=proof,
                device_name=data.get("device_name", ""),
            )
        if self.cookie_transport:
            rotate_token(http_request)  # as django.contrib.auth.login() does
        return self.token_response(request, result)


class RefreshView(RefreshAuthAPIView):
    """POST refresh/: a refresh token in, a new access token and refresh token out."""

    route = "refresh/"
    oauth_errors = True
    parser_classes = [StrictJSONParser, StrictFormParser]

    def post(self, request: Request) -> Response:
        self.enforce_csrf(request)
        data = request.data  # 415 for a body that is neither JSON nor the RFC 6749 form
        is_form = isinstance(data, QueryDict)
        grant_type = data.get("grant_type") if isinstance(data, dict | QueryDict) else None
        if is_form or grant_type is not None:
            if grant_type is None:
                raise exceptions.ValidationError({"grant_type": [_("This field is required.")]})
            if grant_type != "refresh_token":
                raise UnsupportedGrantType()
        token = self.refresh_token_from(request, RefreshSerializer)
        decoded = tokens.decode_refresh(token)
        ratelimit.check_refresh(request._request, str(decoded.claims["sid"]))
        result = sessions.rotate_decoded(
            decoded,
            client=self.client(request),
            request=request._request,
            proof=self.proof(request),
        )
        return self.token_response(request, result)


class LogoutView(RefreshAuthAPIView):
    """POST logout/: revoke the session of any token it issued; 204 whatever the token
    (RFC 7009 §2.2)."""

    route = "logout/"

    def post(self, request: Request) -> Response:
        self.enforce_csrf(request)
        token = self.refresh_token_from(request, LogoutSerializer)
        try:
            sessions.revoke_token(token, RevokeReason.LOGOUT, request=request._request)
        except TokenError:
            pass
        response = Response(status=status.HTTP_204_NO_CONTENT)
        if self.cookie_transport:
            self.delete_cookies(request, response)
        return response


class AuthenticatedAPIView(RefreshAuthAPIView):
    authentication_classes = [AccessTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def user(self, request: Request) -> AbstractBaseUser:
        return cast(AbstractBaseUser, request.user)

    def current_sid(self, request: Request) -> str | None:
        auth = request.auth
        return str(auth["sid"]) if isinstance(auth, dict) and "sid" in auth else None


class LogoutAllView(AuthenticatedAPIView):
    """POST logout-all/: revoke all of the caller's sessions, or all but the current one."""

    route = "logout-all/"

    def post(self, request: Request) -> Response:
        data = self.validated(LogoutAllSerializer, request)
        keep = self.current_sid(request) if data["keep_current"] else None
        sessions.revoke_all(
            self.user(request), RevokeReason.LOGOUT_ALL, keep=keep, request=request._request
        )
        response = Response(status=status.HTTP_204_NO_CONTENT)
        if self.cookie_transport and keep is None:
            # The caller's session ended with the others: its cookies are dead too.
            self.delete_cookies(request, response)
        return response


class SessionListView(AuthenticatedAPIView):
    """GET sessions/: the caller's live sessions, most recently used first."""

    def get(self, request: Request) -> Response:
        serializer = SessionSerializer(
            sessions.live_sessions(self.user(request)),
            many=True,
            context={"current_sid": self.current_sid(request)},
        )
        return Response(serializer.data)


class SessionDetailView(AuthenticatedAPIView):
    """DELETE sessions/<id>/: revoke one of the caller's live sessions."""

    def delete(self, request: Request, session_id: str) -> Response:
        session = sessions.live_session_of(self.user(request), session_id)
        if session is None:
            raise exceptions.NotFound()
        sessions.revoke(session, RevokeReason.USER, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CSRFView(RefreshAuthAPIView):
    """GET csrf/: sets Django's CSRF cookie, for clients of the cookie transport."""

    def get(self, request: Request) -> Response:
        get_token(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT, headers={"Cache-Control": "no-store"})


class JWKSView(RefreshAuthAPIView):
    """GET jwks/: the public keys that verify access tokens (RFC 7517); none with HMAC."""

    def get(self, request: Request) -> Response:
        keys = []
        if settings.ALGORITHM in tokens.ASYMMETRIC_ALGORITHMS:
            keys = [
                dict(k.public_jwk) for k in tokens.access_keys().by_kid.values() if k.public_jwk
            ]
        return Response({"keys": keys}, headers={"Cache-Control": "public, max-age=300"})
