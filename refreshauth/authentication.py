"""The DRF authentication class for refreshauth's access tokens."""

from __future__ import annotations

import base64
import json
from typing import Any

from django.http import HttpRequest
from django.urls import get_urlconf
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.request import Request

from . import mounts, security, tokens
from .conf import settings
from .dpop import Proof, usable_algorithms, verify_proof
from .exceptions import (
    InvalidDPoPProof,
    InvalidToken,
    RefreshAuthError,
    RevokedToken,
    ServiceUnavailable,
)
from .sessions import is_session_revoked, user_subject
from .state import accept_proof_once
from .users import load_user

MAX_HEADER_LENGTH = 8192
SCHEMES = frozenset({"bearer", "dpop"})
COOKIE = "cookie"  # the scheme of a token read from the access cookie


class AuthenticationFailed(exceptions.AuthenticationFailed):
    """A 401 whose body carries refreshauth's ``code`` beside ``detail``, whatever
    exception handler the project uses."""

    def __init__(self, error: RefreshAuthError) -> None:
        super().__init__(detail={"detail": error.detail, "code": error.code}, code=error.code)


class CSRFFailed(exceptions.PermissionDenied):
    """403 ``csrf_failed``: a request that carries a cookie credential failed Django's
    CSRF check. Its body carries ``code`` beside ``detail``, whatever exception handler
    the project uses."""

    default_code = "csrf_failed"

    def __init__(self, reason: str) -> None:
        message = _("CSRF check failed: %(reason)s") % {"reason": reason}
        super().__init__(detail={"detail": message, "code": self.default_code}, code="csrf_failed")


def enforce_csrf(request: HttpRequest) -> None:
    """Django's CSRF check (the ``csrftoken`` cookie echoed in ``X-CSRFToken``, and the
    origin checks), which DRF's views skip, as DRF's ``SessionAuthentication`` applies it:
    safe methods pass. Raises ``CSRFFailed``."""
    check = CSRFCheck(lambda _request: None)  # type: ignore[arg-type]
    check.process_request(request)
    reason = check.process_view(request, None, (), {})  # type: ignore[arg-type]
    if reason:
        raise CSRFFailed(str(reason))


def access_cookie_mounted(urlconf: str | None = None) -> bool:
    """Whether the URLconf serves a view with ``access_transport="cookie"``
    (``refreshauth.urls.patterns(access="cookie")``)."""
    return mounts.serves("access_transport", "cookie", urlconf)


def access_cookie_enabled() -> bool:
    """Whether the authentication class reads the access cookie at all: only on a site
    that sets it (``ACCESS_TOKEN_TRANSPORT = "cookie"``, or a mount of
    ``patterns(access="cookie")``). A site that never sets it ignores one that another
    host of its domain planted."""
    return settings.ACCESS_TOKEN_TRANSPORT == "cookie" or access_cookie_mounted(get_urlconf())


class Unavailable(exceptions.APIException):
    status_code = 503
    default_code = "service_unavailable"

    def __init__(self, error: ServiceUnavailable) -> None:
        super().__init__(detail={"detail": error.detail, "code": error.code}, code=error.code)
        self.wait = error.retry_after


def _credential(request: Request) -> tuple[str, str] | None:
    """The scheme (``"bearer"`` or ``"dpop"``) and credential of the ``Authorization``
    header, or None for any other scheme.

    Raises ``InvalidToken`` for a header of either scheme without exactly one credential.
    """
    header: str = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _space, credential = header.partition(" ")
    scheme = scheme.lower()
    if scheme not in SCHEMES:
        return None
    credential = credential.strip(" ")
    if not credential or " " in credential or len(header) > MAX_HEADER_LENGTH:
        raise InvalidToken()
    return scheme, credential


def bearer_token(request: Request) -> str | None:
    """The credential of an ``Authorization: Bearer`` header, or None for any other scheme.

    Raises ``InvalidToken`` for a Bearer header without exactly one credential.
    """
    found = _credential(request)
    return found[1] if found is not None and found[0] == "bearer" else None


def request_proof(request: HttpRequest, *, access_token: str | None = None) -> Proof | None:
    """The verified DPoP proof of ``request`` (RFC 9449), or None when it has no ``DPoP``
    header. ``htu`` is checked against ``request.build_absolute_uri(request.path)``, which
    follows ``SECURE_PROXY_SSL_HEADER`` and ``USE_X_FORWARDED_HOST`` behind a proxy."""
    header = request.META.get("HTTP_DPOP")
    if header is None:
        return None
    return verify_proof(
        header,
        method=request.method or "",
        url=request.build_absolute_uri(request.path),
        algorithms=settings.DPOP_ALGORITHMS,
        max_age=settings.DPOP_PROOF_MAX_AGE,
        leeway=settings.LEEWAY,
        access_token=access_token,
    )


def _claims_ath(request: HttpRequest) -> bool:
    """Whether the request's DPoP proof, read without verifying it, has an ``ath`` claim.
    Only chooses how ``verify_proof`` checks the proof; anything unreadable says yes, so
    that the strict check refuses it."""
    header = request.META.get("HTTP_DPOP", "")
    if len(header) > MAX_HEADER_LENGTH:
        return True
    try:
        payload = header.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, RecursionError):
        return True
    return not isinstance(claims, dict) or "ath" in claims


def _cookie_credential(request: Request) -> str | None:
    """The access cookie of a request without an ``Authorization`` header, on a site that
    sets access cookies (``access_cookie_enabled()``); else None."""
    if "HTTP_AUTHORIZATION" in request.META:
        return None  # a request with the header is judged by the header alone
    token = request._request.COOKIES.get(settings.ACCESS_COOKIE_NAME)
    if not token or not access_cookie_enabled():
        return None
    if len(token) > MAX_HEADER_LENGTH:
        raise InvalidToken()
    return token


class AccessTokenAuthentication(BaseAuthentication):
    """Authenticates ``Authorization: Bearer <access token>``, and ``Authorization: DPoP
    <access token>`` with a ``DPoP`` proof for tokens bound to a key (RFC 9449); on a
    site that sets access cookies, also the access cookie of a request without an
    ``Authorization`` header, behind Django's CSRF check for unsafe methods.

    ``request.user`` is the token's active user and ``request.auth`` its verified claims
    (a dict with ``sid``, the session id). One primary-key query and, with
    ``REVOKE_ACCESS_TOKENS``, one cache read per request; when the cache does not know
    the session, one more primary-key query (``refreshauth.state``). A bound token sent
    as ``Bearer``, or an unbound one sent as ``DPoP``, is refused; a bound token in the
    cookie needs its ``DPoP`` proof all the same.
    """

    www_authenticate_realm = "api"

    def authenticate(self, request: Request) -> tuple[Any, dict[str, Any]] | None:
        try:
            found = _credential(request)
            if found is None:
                cookie = _cookie_credential(request)
                if cookie is None:
                    return None
                found = COOKIE, cookie
            scheme, token = found
            claims = tokens.decode_access(token)
            if scheme == COOKIE:
                # As SessionAuthentication: a browser sends the cookie on its own, so an
                # unsafe method must prove it came from this site's pages. Before the
                # proof, so a forged request spends no DPoP proof.
                enforce_csrf(request._request)
            self._check_binding(request, scheme, token, claims)
            if settings.REVOKE_ACCESS_TOKENS and is_session_revoked(claims["sid"]):
                raise RevokedToken()
            user = self._user(claims["sub"])
        except ServiceUnavailable as exc:
            raise Unavailable(exc) from None
        except RefreshAuthError as exc:
            if isinstance(exc, InvalidDPoPProof):
                request._request.refreshauth_dpop_error = "invalid_dpop_proof"  # type: ignore[attr-defined]
                security.record("dpop_proof_refused", request=request._request, reason=exc.detail)
            raise AuthenticationFailed(exc) from None
        return user, claims

    def _check_binding(
        self, request: Request, scheme: str, token: str, claims: dict[str, Any]
    ) -> None:
        cnf = claims.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        if cnf is not None and not (isinstance(jkt, str) and jkt):
            raise InvalidToken()
        if scheme == "bearer":
            if jkt is not None:
                raise InvalidToken()  # a bound token is worthless without its key
            return
        bound_to: str | None = token
        if scheme == COOKIE:
            if jkt is None:
                return
            # The cookie carries the token in place of the DPoP scheme: the proof stays.
            # The page cannot read an HttpOnly cookie to hash it, so its proof may come
            # without ath; one that has ath must match this token.
            if not _claims_ath(request._request):
                bound_to = None
        elif jkt is None:
            raise InvalidToken()  # a bearer token sent with the DPoP scheme
        proof = request_proof(request._request, access_token=bound_to)
        if proof is None:
            raise InvalidDPoPProof()
        if not constant_time_compare(proof.jkt, jkt):
            raise InvalidDPoPProof(str(_("The DPoP proof was made with another key.")))
        accept_proof_once(proof.jkt, proof.jti, proof.replay_ttl)

    def _user(self, sub: str) -> Any:
        user = load_user(sub)
        if user is None or not getattr(user, "is_active", True):
            raise RevokedToken()
        if user_subject(user) != sub:
            # " 1" or "01" found user 1 through the field's conversion: not its token.
            raise InvalidToken()
        return user

    def authenticate_header(self, request: Request) -> str:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme = header.partition(" ")[0].lower()
        dpop_error = getattr(request._request, "refreshauth_dpop_error", None)
        if scheme == "dpop" or (not header and dpop_error):
            algs = " ".join(usable_algorithms(settings.DPOP_ALGORITHMS))
            error = getattr(request._request, "refreshauth_dpop_error", "invalid_token")
            return f'DPoP algs="{algs}", error="{error}"'
        value = f'Bearer realm="{self.www_authenticate_realm}"'
        if scheme == "bearer":
            value += ', error="invalid_token"'
        return value
