"""One row per session: it holds the digest of the session's current refresh token."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.db.models import QuerySet


class RevokeReason(models.TextChoices):
    LOGOUT = "logout", _("Logged out")
    LOGOUT_ALL = "logout_all", _("Logged out everywhere")
    USER = "user", _("Revoked by the user")
    REUSE = "reuse", _("Refresh token reused")
    PASSWORD_CHANGE = "password_change", _("Password changed")
    DEACTIVATED = "deactivated", _("User deactivated")
    ADMIN = "admin", _("Revoked by an administrator")
    SESSION_LIMIT = "session_limit", _("Too many sessions")
    API = "api", _("Revoked through the Python API")


class RefreshTokenQuerySet(models.QuerySet["RefreshToken"]):
    def live(self, now: datetime | None = None) -> QuerySet[RefreshToken]:
        """Sessions whose current refresh token can still be used."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)

    def expired(self, now: datetime | None = None) -> QuerySet[RefreshToken]:
        """Sessions not revoked whose current refresh token has expired."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__lte=now)

    def revoked(self) -> QuerySet[RefreshToken]:
        """Sessions revoked, for whatever reason."""
        return self.filter(revoked_at__isnull=False)

    def dead(self, now: datetime | None = None) -> QuerySet[RefreshToken]:
        """Sessions none of whose tokens can ever be used again: safe to delete."""
        now = now or timezone.now()
        return self.filter(expires_at__lte=now)


class RefreshToken(models.Model):
    """A login session and its current refresh token.

    Every refresh rewrites this row in place (DESIGN: one row per session); the
    database holds only SHA-256 digests of token ids, never a usable token.
    """

    id = models.UUIDField(_("session id"), primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="refreshauth_sessions",
        verbose_name=_("user"),
    )
    jti_hash = models.CharField(_("current token digest"), max_length=64, editable=False)
    previous_jti_hash = models.CharField(
        _("previous token digest"), max_length=64, blank=True, default="", editable=False
    )
    password_fingerprint = models.CharField(
        _("password fingerprint"), max_length=64, blank=True, default="", editable=False
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), default=timezone.now)
    rotated_at = models.DateTimeField(_("rotated"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)
    absolute_expires_at = models.DateTimeField(_("session ends"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoke_reason = models.CharField(
        _("revoke reason"), max_length=32, choices=RevokeReason.choices, blank=True, default=""
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True, default="")
    device_name = models.CharField(_("device name"), max_length=64, blank=True, default="")
    dpop_jkt = models.CharField(
        _("DPoP key thumbprint"),
        max_length=64,
        blank=True,
        default="",
        editable=False,
        help_text=_("RFC 7638 thumbprint of the key the session is bound to (RFC 9449)."),
    )

    objects = RefreshTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("refresh token session")
        verbose_name_plural = _("refresh token sessions")
        indexes = [
            models.Index(fields=["user", "revoked_at"], name="refreshauth_user_revoked_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} / {self.pk}"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or timezone.now())
