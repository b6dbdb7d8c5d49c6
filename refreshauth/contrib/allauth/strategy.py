"""django-allauth's headless token strategy, backed by refreshauth sessions.

allauth keeps its own state of an app client (the login stages, the authenticated user)
in a Django session named by the session token (``X-Session-Token``), as its default
strategy does. What this strategy adds is the access token: a login that allauth
completes opens a refreshauth session, and the response's ``meta`` carries refreshauth's
token response (SPEC section 2). The Django session remembers the refreshauth session
id, so that the two end together:

- a logout through allauth revokes the refreshauth session (``receivers.py``);
- a refreshauth session that was revoked or has ended (logout, reuse, password change,
  the admin, ``sessions/``) ends the Django session the next time its token is used.
"""

from __future__ import annotations

import uuid
from importlib import import_module
from typing import TYPE_CHECKING, Any

from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.ratelimit import respond_429
from allauth.headless.tokens.strategies.base import AbstractTokenStrategy
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, router
from django.http import HttpRequest, HttpResponse, JsonResponse

from refreshauth import clients, ratelimit, sessions, tokens
from refreshauth.exceptions import RateLimited, ServiceUnavailable, TokenError
from refreshauth.models import RefreshToken

if TYPE_CHECKING:
    from django.contrib.sessions.backends.base import SessionBase

__all__ = ["SID_SESSION_KEY", "RefreshAuthTokenStrategy"]

# Where the Django session (allauth's) keeps the id of its refreshauth session.
SID_SESSION_KEY = "_refreshauth_sid"
APP_LABEL = "refreshauth.contrib.allauth"


def session_store(session_key: str | None = None) -> SessionBase:
    """A store of the project's ``SESSION_ENGINE``."""
    engine = import_module(django_settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(session_key=session_key)
    return store


def parse_sid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def is_live(sid: uuid.UUID) -> bool:
    """Whether refreshauth session ``sid`` can still be used (not revoked, not ended).

    Read on the primary database: a lagging replica must not end a fresh session.
    """
    alias = router.db_for_write(RefreshToken)
    return RefreshToken.objects.live().using(alias).filter(pk=sid).exists()


def client_info(request: HttpRequest | None) -> clients.ClientInfo:
    """The client's address and user agent, read as refreshauth's own views read them."""
    if request is None:
        return clients.ClientInfo()
    return clients.from_request(request)


def _unavailable(error: ServiceUnavailable) -> ImmediateHttpResponse:
    response = JsonResponse(
        {
            "status": 503,
            "errors": [{"message": error.detail, "code": error.code}],
        },
        status=503,
    )
    response["Retry-After"] = str(error.retry_after)
    return ImmediateHttpResponse(response)


def _rate_limited(request: HttpRequest, error: RateLimited) -> ImmediateHttpResponse:
    response: HttpResponse = respond_429(request)
    response["Retry-After"] = str(error.retry_after)
    return ImmediateHttpResponse(response)


class RefreshAuthTokenStrategy(AbstractTokenStrategy):
    """``HEADLESS_TOKEN_STRATEGY``: allauth's app logins end in a refreshauth session.

    After a login, allauth's response ``meta`` holds ``session_token`` (allauth's own,
    for its endpoints) and refreshauth's token response: ``access_token``,
    ``token_type``, ``expires_in``, ``refresh_token`` and ``refresh_expires_in``. The
    access token authenticates the project's API (``AccessTokenAuthentication``);
    the refresh token is rotated by refreshauth's ``refresh/``, or by allauth's
    ``tokens/refresh``, which this strategy hands to refreshauth's rotation.
    """

    def __init__(self) -> None:
        if not apps.is_installed(APP_LABEL):
            raise ImproperlyConfigured(
                f"RefreshAuthTokenStrategy needs {APP_LABEL!r} in INSTALLED_APPS: it "
                "revokes the refreshauth session when allauth logs the user out."
            )

    # --- session tokens: allauth's Django session, as its default strategy --------

    def create_session_token(self, request: HttpRequest) -> str:
        """The key of ``request.session``, saved first if it has none yet."""
        if not request.session.session_key:
            request.session.save()
        key = request.session.session_key
        assert isinstance(key, str)
        return key

    def lookup_session(self, session_token: str) -> SessionBase | None:
        """The Django session of ``session_token``; None when it does not exist, has
        expired, or belongs to a refreshauth session that was revoked or has ended (the
        Django session is then deleted too)."""
        session = session_store(session_token)
        session.get(SESSION_KEY)  # loads; a missing or expired session loses its key
        if not session.session_key:
            return None
        sid = session.get(SID_SESSION_KEY)
        if sid is not None:
            parsed = parse_sid(sid)
            try:
                live = parsed is not None and is_live(parsed)
            except OperationalError as exc:
                raise _unavailable(ServiceUnavailable()) from exc
            if not live:
                session.delete()
                return None
        return session

    # --- access tokens: a refreshauth session per login ---------------------------

    def create_access_token_payload(self, request: HttpRequest) -> dict[str, Any] | None:
        """Open a refreshauth session for the user allauth has just logged in; return
        its token response (RFC 6749 §5.1 fields), which allauth puts in ``meta``."""
        user = request.user
        if not user.is_authenticated:
            return None
        try:
            result = sessions.open_session(user, client=client_info(request), request=request)
        except ServiceUnavailable as exc:
            raise _unavailable(exc) from exc
        except OperationalError as exc:
            raise _unavailable(ServiceUnavailable()) from exc
        request.session[SID_SESSION_KEY] = str(result.session.pk)
        if not request.session.session_key:
            request.session.save()
        from .receivers import link_user_session

        link_user_session(request.session.session_key, result.session)
        return result.as_dict()

    def create_access_token(self, request: HttpRequest) -> str | None:
        """The access token of a new refreshauth session (see
        ``create_access_token_payload()``, which allauth calls)."""
        payload = self.create_access_token_payload(request)
        return None if payload is None else str(payload["access_token"])

    def refresh_token(self, refresh_token: str) -> tuple[str, str] | None:
        """allauth's ``tokens/refresh``: refreshauth's rotation, with its reuse detection
        (a rotated token presented again revokes the session), its grace period, its
        session lifetime and ``REFRESH_RATE``. None, as allauth expects, for a token
        that is refused."""
        request: HttpRequest | None = context.request
        try:
            decoded = tokens.decode_refresh(refresh_token)
            if request is not None:
                ratelimit.check_refresh(request, str(decoded.claims["sid"]))
            result = sessions.rotate(refresh_token, client=client_info(request), request=request)
        except TokenError:
            return None
        except RateLimited as exc:
            if request is None:
                return None
            raise _rate_limited(request, exc) from exc
        except ServiceUnavailable as exc:
            raise _unavailable(exc) from exc
        except OperationalError as exc:
            raise _unavailable(ServiceUnavailable()) from exc
        return result.access_token, result.refresh_token
