"""The domain's errors, each carrying the ``code`` that the HTTP API answers with."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class RefreshAuthError(Exception):
    """Base of refreshauth's errors; ``code`` and ``detail`` are what a client sees."""

    code = "error"
    default_detail = _("Authentication failed.")

    def __init__(self, detail: str | None = None) -> None:
        self.detail = str(detail if detail is not None else self.default_detail)
        super().__init__(self.detail)


class InvalidCredentials(RefreshAuthError):
    """Wrong password, unknown or inactive user: one error for all three."""

    code = "invalid_credentials"
    default_detail = _("No active account found with the given credentials.")


class TokenError(RefreshAuthError):
    """A token was refused."""

    code = "token_invalid"
    default_detail = _("Token is invalid.")


class InvalidToken(TokenError):
    """Malformed, badly signed, of the wrong type, or missing a required claim."""

    code = "token_invalid"
    default_detail = _("Token is invalid.")


class ExpiredToken(TokenError):
    """Well formed and signed, but past its ``exp``."""

    code = "token_expired"
    default_detail = _("Token has expired.")


class RevokedToken(TokenError):
    """Its session was revoked or ended, or its user is inactive or deleted."""

    code = "token_revoked"
    default_detail = _("Token has been revoked.")


class ReusedToken(TokenError):
    """A rotated refresh token was presented again; its session is now revoked."""

    code = "token_reused"
    default_detail = _("Token was already used; the session has been revoked.")


class ServiceUnavailable(RefreshAuthError):
    """The database or the revocation cache cannot answer right now."""

    code = "service_unavailable"
    default_detail = _("Service temporarily unavailable, try again shortly.")
    retry_after = 1


class RateLimited(RefreshAuthError):
    """Too many attempts; ``retry_after`` is in whole seconds."""

    code = "rate_limited"
    default_detail = _("Too many requests, try again later.")

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after = max(1, int(retry_after))


class InvalidDPoPProof(RefreshAuthError):
    """A DPoP proof (RFC 9449) is missing where one is needed, malformed, badly signed,
    or made for another request, key or access token."""

    code = "invalid_dpop_proof"
    default_detail = _("DPoP proof is invalid.")
