from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RefreshAuthConfig(AppConfig):
    name = "refreshauth"
    verbose_name = _("Refresh tokens")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, receivers

        checks.register()
        receivers.connect()
        try:
            import drf_spectacular  # noqa: F401
        except ImportError:
            return
        from . import openapi  # noqa: F401 (registers the OpenAPI extensions)
