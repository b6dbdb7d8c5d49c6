"""The example's user admin, with refreshauth's "revoke all sessions" action."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from refreshauth.admin import UserSessionsAdminMixin

if get_user_model() is User:
    admin.site.unregister(User)

    @admin.register(User)
    class RefreshAuthUserAdmin(UserSessionsAdminMixin, UserAdmin):
        pass
