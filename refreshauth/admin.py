"""The admin: see every session, revoke some, or all of some users'.

Sessions are revoked, never deleted, and nothing in them is editable. Revoking needs
``refreshauth.change_refreshtoken``; a staff user who may only view sees the sessions
and can change nothing. The user-admin action comes with ``UserSessionsAdminMixin``,
which a project adds to its user admin (``refreshauth`` edits no other app's admin)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import devices, sessions
from .models import RefreshToken, RevokeReason

if TYPE_CHECKING:
    SessionAdminBase = admin.ModelAdmin[RefreshToken]
else:
    SessionAdminBase = admin.ModelAdmin


def _relative(moment: datetime) -> str:
    """``moment`` as "3 hours ago" or "in 6 days", its date and time as a tooltip."""
    now = timezone.now()
    if timedelta(0) <= now - moment < timedelta(minutes=1):
        text = str(_("just now"))
    elif moment <= now:
        text = _("%(delta)s ago") % {"delta": timesince(moment, now, depth=1)}
    else:
        text = _("in %(delta)s") % {"delta": timeuntil(moment, now, depth=1)}
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    full = date_format(local, "DATETIME_FORMAT")
    return format_html('<span title="{}">{}</span>', full, text)


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("live", _("Live")), ("expired", _("Expired")), ("revoked", _("Revoked"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "live":
            return queryset.live()  # type: ignore[attr-defined,no-any-return]
        if self.value() == "expired":
            return queryset.expired()  # type: ignore[attr-defined,no-any-return]
        if self.value() == "revoked":
            return queryset.revoked()  # type: ignore[attr-defined,no-any-return]
        return queryset


@admin.register(RefreshToken)
class RefreshTokenAdmin(SessionAdminBase):
    list_display = (
        "short_id",
        "user",
        "device",
        "ip",
        "last_used",
        "expires",
        "state",
        "dpop",
    )
    list_display_links = ("short_id",)

    class Media:
        css = {"all": ["refreshauth/admin.css"]}

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
        "device",
        "user_agent",
        "dpop",
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
        if obj.is_expired(timezone.now()):
            return str(_("expired"))
        return str(_("live"))

    @admin.display(description=_("session"), ordering="id")
    def short_id(self, obj: RefreshToken) -> str:
        return str(obj.pk)[:8]

    @admin.display(description=_("device"), ordering="user_agent")
    def device(self, obj: RefreshToken) -> str:
        return obj.device_name or devices.describe(obj.user_agent) or "-"

    # Times in the list are relative ("3 hours ago", "in 6 days"), with the date in the
    # tooltip and on the change page, so that the list stays readable at 1280 px.
    @admin.display(description=_("IP"), ordering="ip_address")
    def ip(self, obj: RefreshToken) -> str:
        return obj.ip_address or "-"

    @admin.display(description=_("used"), ordering="last_used_at")
    def last_used(self, obj: RefreshToken) -> str:
        return _relative(obj.last_used_at)

    @admin.display(description=_("expires"), ordering="expires_at")
    def expires(self, obj: RefreshToken) -> str:
        return _relative(obj.expires_at)

    @admin.display(description=_("DPoP"), boolean=True, ordering="dpop_jkt")
    def dpop(self, obj: RefreshToken) -> bool:
        return bool(obj.dpop_jkt)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Revoke, never delete: a deleted row can no longer tell reuse from garbage.
        return False

    @admin.action(description=_("Revoke selected sessions"), permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[RefreshToken]) -> None:
        count = sessions.revoke_sessions(queryset, RevokeReason.ADMIN, request=request)
        self.message_user(
            request,
            ngettext("Revoked %d session.", "Revoked %d sessions.", count) % count,
            messages.SUCCESS,
        )


@admin.action(
    description=_("Revoke all sessions of selected users"), permissions=["revoke_sessions"]
)
def revoke_user_sessions(model_admin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    """Revoke every session of the selected users (see ``UserSessionsAdminMixin``)."""
    count = sessions.revoke_sessions(
        RefreshToken.objects.filter(user__in=list(queryset.values_list("pk", flat=True))),
        RevokeReason.ADMIN,
        request=request,
    )
    model_admin.message_user(
        request,
        ngettext("Revoked %d session.", "Revoked %d sessions.", count) % count,
        messages.SUCCESS,
    )


class UserSessionsAdminMixin:
    """Adds "Revoke all sessions of selected users" to a user admin, for staff who may
    change users and change refresh-token sessions::

        from django.contrib.auth.admin import UserAdmin
        from refreshauth.admin import UserSessionsAdminMixin

        admin.site.unregister(User)

        @admin.register(User)
        class RefreshAuthUserAdmin(UserSessionsAdminMixin, UserAdmin):
            pass
    """

    actions: Any = [revoke_user_sessions]

    def has_revoke_sessions_permission(self, request: HttpRequest) -> bool:
        opts = RefreshToken._meta
        may_revoke = request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
        return bool(may_revoke and self.has_change_permission(request))  # type: ignore[attr-defined]
