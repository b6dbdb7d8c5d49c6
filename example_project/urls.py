from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from .demo.views import MeView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/", include("refreshauth.urls")),
    path("api/me/", MeView.as_view(), name="me"),
]

if settings.OPENAPI:
    from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

    urlpatterns += [
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        path(
            "api/schema/ui/", SpectacularSwaggerView.as_view(url_name="schema"), name="schema-ui"
        ),
    ]
