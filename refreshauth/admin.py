"""The admin: see every session, revoke some, or all of some users'."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import sessions
from .models import RefreshToken, RevokeReason

if TYPE_CHECKING:
    SessionAdminBase = admin.ModelAdmin[RefreshToken]
else:
    SessionAdminBase = admin.ModelAdmin


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("live", _("Live")), ("expired", _("Expired")), ("revoked", _("Revoked"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = sessions._now()
        if self.value() == "live":
            return queryset.filter(revoked_at__isnull=True, expires_at__gt=now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(RefreshToken)
class RefreshTokenAdmin(SessionAdminBase):
    list_display = (
        "id",
        "user",
        "created_at",
        "last_used_at",
        "expires_at",
        "state",
        "ip_address",
        "user_agent_short",
    )
    list_filter = (StateFilter, "revoke_reason")
    list_select_related = ("user",)
    ordering = ("-last_used_at",)
    date_hierarchy = "created_at"
    actions = ["revoke_selected"]
    # No digest and no fingerprint is shown: they are not for people.
    fields = (
        "id",
        "user",
        "state",
        "created_at",
        "last_used_at",
        "rotated_at",
        "expires_at",
        "absolute_expires_at",
        "revoked_at",
        "revoke_reason",
        "ip_address",
        "user_agent",
    )
    readonly_fields = fields

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        user_model = get_user_model()
        names = [f"user__{user_model.USERNAME_FIELD}"]
        email = user_model.get_email_field_name()
        if email and email != user_model.USERNAME_FIELD:
            try:
                user_model._meta.get_field(email)
            except FieldDoesNotExist:  # a custom user model without an email field
                return names
            names.append(f"user__{email}")
        return names

    @admin.display(description=_("state"))
    def state(self, obj: RefreshToken) -> str:
        if obj.revoked_at is not None:
            return str(_("revoked (%(reason)s)") % {"reason": obj.get_revoke_reason_display()})
        if obj.is_expired(sessions._now()):
            return str(_("expired"))
        return str(_("live"))

    @admin.display(description=_("user agent"), ordering="user_agent")
    def user_agent_short(self, obj: RefreshToken) -> str:
        return obj.user_agent if len(obj.user_agent) <= 60 else obj.user_agent[:59] + "…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke selected sessions"), permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[RefreshToken]) -> None:
        count = sessions.revoke_sessions(queryset, RevokeReason.ADMIN, request=request)
        self.message_user(
            request,
            ngettext("Revoked %d session.", "Revoked %d sessions.", count) % count,
            messages.SUCCESS,
        )


@admin.action(description=_("Revoke all sessions of selected users"))
def revoke_user_sessions(model_admin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    """A user-admin action; refreshauth adds it to the registered user admin, and a site
    with its own ``UserAdmin`` may list it in ``actions``."""
    count = sessions.revoke_sessions(
        RefreshToken.objects.filter(user__in=queryset), RevokeReason.ADMIN, request=request
    )
    model_admin.message_user(
        request,
        ngettext("Revoked %d session.", "Revoked %d sessions.", count) % count,
        messages.SUCCESS,
    )


def _add_user_action() -> None:
    user_admin = admin.site._registry.get(get_user_model())
    if user_admin is not None:
        current = list(user_admin.actions or [])
        if revoke_user_sessions not in current:
            user_admin.actions = [*current, revoke_user_sessions]


_add_user_action()
