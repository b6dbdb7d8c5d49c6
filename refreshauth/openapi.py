"""OpenAPI descriptions for drf-spectacular (``pip install refreshauth[openapi]``).

Loaded by ``RefreshAuthConfig.ready()`` when drf-spectacular is installed: it registers
the security schemes of ``AccessTokenAuthentication`` (bearer, and DPoP with its proof
header) and describes every
refreshauth endpoint's request, responses and error bodies, without touching the views.
"""

from __future__ import annotations

import functools
from typing import Any, cast

from django.contrib.auth import get_user_model
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers

from . import serializers as ours
from .conf import settings


class AccessTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer <access token>``, or, for a session bound to a key,
    ``Authorization: DPoP <access token>`` together with a ``DPoP`` proof (RFC 9449)."""

    target_class = "refreshauth.authentication.AccessTokenAuthentication"
    name = ["accessToken", "dpopAccessToken", "dpopProof"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [{"accessToken": []}, {"dpopAccessToken": [], "dpopProof": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, str]]:
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {
                "type": "http",
                "scheme": "DPoP",
                "description": "An access token of a DPoP-bound session (RFC 9449).",
            },
            {
                "type": "apiKey",
                "in": "header",
                "name": "DPoP",
                "description": "A DPoP proof for this request, with ath (RFC 9449 §4).",
            },
        ]


DPOP_HEADER = OpenApiParameter(
    "DPoP",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="A DPoP proof (RFC 9449) for this request: it binds a new session to the "
    "proof's key, and is required for every refresh of a bound session.",
)


class TokenResponse(serializers.Serializer[Any]):
    access_token = serializers.CharField()
    token_type = serializers.ChoiceField(choices=["Bearer", "DPoP"])
    expires_in = serializers.IntegerField(help_text="Seconds from the token's iat to exp.")
    refresh_token = serializers.CharField(
        required=False, help_text="Left out with cookie transport: it is in the cookie."
    )
    refresh_expires_in = serializers.IntegerField()


class CookieTokenResponse(serializers.Serializer[Any]):
    """The token response of a mount with both tokens in cookies: no token in the body."""

    token_type = serializers.ChoiceField(choices=["Bearer", "DPoP"])
    expires_in = serializers.IntegerField(
        help_text="Seconds from the access token's iat to exp; the access cookie's Max-Age."
    )
    refresh_expires_in = serializers.IntegerField()


def _token_response(access_transport: str) -> Any:
    if access_transport == "cookie":
        return OpenApiResponse(
            CookieTokenResponse,
            description="Both tokens are set as HttpOnly cookies, the body carries neither.",
        )
    return TokenResponse


class Error(serializers.Serializer[Any]):
    detail = serializers.CharField()
    code = serializers.CharField()


class OAuthError(Error):
    error = serializers.ChoiceField(
        choices=["invalid_grant", "unsupported_grant_type"], required=False
    )


FIELD_ERRORS = inline_serializer(
    "FieldErrors",
    {
        "detail": serializers.CharField(required=False),
        "code": serializers.CharField(required=False),
        "error": serializers.ChoiceField(
            choices=["unsupported_grant_type", "invalid_dpop_proof"], required=False
        ),
    },
)
FIELD_ERRORS_RESPONSE = OpenApiResponse(
    FIELD_ERRORS, description="Malformed request: DRF's field errors, or detail and code."
)
FIELD_ERRORS_RESPONSE_DPOP = OpenApiResponse(
    FIELD_ERRORS,
    description="Malformed request (DRF's field errors), or invalid_dpop_proof (detail, code "
    "and error).",
)


def _common(*extra: tuple[int, Any]) -> dict[int, Any]:
    responses: dict[int, Any] = {
        405: OpenApiResponse(Error, description="Method not allowed."),
        503: OpenApiResponse(Error, description="Database or cache unavailable; Retry-After."),
    }
    responses.update(dict(extra))
    return responses


def _login_request() -> Any:
    return _login_serializer(get_user_model().USERNAME_FIELD)


@functools.lru_cache(maxsize=4)
def _login_serializer(username_field: str) -> Any:
    # One component for every mount of LoginView: two mounts that each built their own
    # "Login" class would be two components of one name, which drf-spectacular refuses.
    return inline_serializer(
        "Login",
        {
            username_field: serializers.CharField(max_length=4096),
            "password": serializers.CharField(max_length=4096, trim_whitespace=False),
            "device_name": serializers.CharField(
                max_length=64, required=False, help_text="A name for the session's device."
            ),
        },
    )


class _Replace(OpenApiViewExtension):
    schema: dict[str, Any] = {}

    def view_replacement(self) -> Any:
        decorate = extend_schema_view(**{m: extend_schema(**kw) for m, kw in self.schema.items()})
        return decorate(cast(Any, self.target_class))

    def transport(self) -> str:
        """The transport of the mount being described: its ``patterns()`` argument, else
        ``REFRESH_TOKEN_TRANSPORT``."""
        initkwargs = getattr(self.target_callback, "initkwargs", {}) or {}
        return str(initkwargs.get("transport") or settings.REFRESH_TOKEN_TRANSPORT)

    def access_transport(self) -> str:
        """Where the mount being described puts the access token: "cookie" (with the
        refresh cookie only) or "header"."""
        initkwargs = getattr(self.target_callback, "initkwargs", {}) or {}
        access = initkwargs.get("access_transport") or settings.ACCESS_TOKEN_TRANSPORT
        return "cookie" if self.transport() == "cookie" and access == "cookie" else "header"


class LoginSchema(_Replace):
    target_class = "refreshauth.views.LoginView"

    def view_replacement(self) -> Any:
        self.schema = {
            "post": {
                "summary": "Log in: open a session",
                "request": _login_request(),
                "parameters": [DPOP_HEADER],
                "responses": _common(
                    (200, _token_response(self.access_transport())),
                    (400, FIELD_ERRORS_RESPONSE_DPOP),
                    (401, OpenApiResponse(Error, description="invalid_credentials")),
                    (403, OpenApiResponse(Error, description="csrf_failed (cookie transport)")),
                    (415, OpenApiResponse(Error, description="Not JSON.")),
                    (429, OpenApiResponse(Error, description="rate_limited; Retry-After.")),
                ),
                "auth": [],
            }
        }
        return super().view_replacement()


class RefreshSchema(_Replace):
    target_class = "refreshauth.views.RefreshView"

    def view_replacement(self) -> Any:
        self.schema = self.refresh_schema(self.access_transport())
        return super().view_replacement()

    @staticmethod
    def refresh_schema(access_transport: str) -> dict[str, Any]:
        return {
            "post": {
                "summary": "Rotate: a new access token and refresh token",
                "request": {
                    "application/json": ours.RefreshSerializer,
                    "application/x-www-form-urlencoded": ours.RefreshSerializer,
                },
                "parameters": [DPOP_HEADER],
                "responses": _common(
                    (200, _token_response(access_transport)),
                    (
                        400,
                        OpenApiResponse(
                            FIELD_ERRORS,
                            description="Malformed (DRF's field errors), another grant_type, or "
                            "invalid_dpop_proof.",
                        ),
                    ),
                    (
                        401,
                        OpenApiResponse(
                            OAuthError,
                            description="token_invalid, token_expired, token_revoked, "
                            "token_reused",
                        ),
                    ),
                    (403, OpenApiResponse(Error, description="csrf_failed (cookie transport)")),
                    (415, OpenApiResponse(Error, description="Neither JSON nor the form.")),
                    (429, OpenApiResponse(Error, description="rate_limited; Retry-After.")),
                ),
                "auth": [],
            }
        }


class LogoutSchema(_Replace):
    target_class = "refreshauth.views.LogoutView"
    schema = {
        "post": {
            "summary": "Log out: revoke the token's session (204 for any token)",
            "request": ours.LogoutSerializer,
            "responses": _common(
                (204, None),
                (400, FIELD_ERRORS_RESPONSE),
                (403, OpenApiResponse(Error, description="csrf_failed (cookie transport)")),
                (415, OpenApiResponse(Error, description="Not JSON.")),
            ),
            "auth": [],
        }
    }


_UNAUTHORIZED = (
    401,
    OpenApiResponse(
        Error, description="not_authenticated, token_invalid, token_expired, token_revoked"
    ),
)
_CSRF_FAILED = (
    403,
    OpenApiResponse(Error, description="csrf_failed (the access token sent as a cookie)"),
)


class LogoutAllSchema(_Replace):
    target_class = "refreshauth.views.LogoutAllView"
    schema = {
        "post": {
            "summary": "Revoke all of the caller's sessions",
            "request": ours.LogoutAllSerializer,
            "responses": _common(
                (204, None),
                (400, FIELD_ERRORS_RESPONSE),
                _UNAUTHORIZED,
                _CSRF_FAILED,
                (415, OpenApiResponse(Error, description="Not JSON.")),
            ),
        }
    }


class SessionListSchema(_Replace):
    target_class = "refreshauth.views.SessionListView"
    schema = {
        "get": {
            "summary": "The caller's live sessions, most recently used first",
            "responses": _common((200, ours.SessionSerializer(many=True)), _UNAUTHORIZED),
        }
    }


class SessionDetailSchema(_Replace):
    target_class = "refreshauth.views.SessionDetailView"
    schema = {
        "delete": {
            "summary": "Revoke one of the caller's sessions",
            "responses": _common(
                (204, None),
                _UNAUTHORIZED,
                _CSRF_FAILED,
                (
                    404,
                    OpenApiResponse(Error, description="Not one of the caller's live sessions."),
                ),
            ),
        }
    }


class CSRFSchema(_Replace):
    """``csrf/`` is listed under cookie mounts only: a body mount's clients need no CSRF
    cookie."""

    target_class = "refreshauth.views.CSRFView"
    schema = {
        "get": {
            "summary": "Set Django's CSRF cookie (cookie transport)",
            "responses": _common((204, None)),
            "auth": [],
        }
    }

    def view_replacement(self) -> Any:
        if self.transport() == "cookie":
            return super().view_replacement()
        # A subclass of its own, so that excluding this mount leaves the others listed.
        hidden = type("CSRFView", (cast(Any, self.target_class),), {})
        return extend_schema_view(get=extend_schema(exclude=True))(hidden)


class JWKSSchema(_Replace):
    target_class = "refreshauth.views.JWKSView"
    schema = {
        "get": {
            "summary": "Public keys of access tokens (RFC 7517)",
            "responses": _common(
                (
                    200,
                    inline_serializer(
                        "JWKS", {"keys": serializers.ListField(child=serializers.DictField())}
                    ),
                )
            ),
            "auth": [],
        }
    }
