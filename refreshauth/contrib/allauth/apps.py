from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RefreshAuthAllauthConfig(AppConfig):
    name = "refreshauth.contrib.allauth"
    label = "refreshauth_allauth"
    verbose_name = _("Refresh tokens for django-allauth")

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
