from django.contrib import admin
from django.urls import include, path

from .demo.views import MeView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/", include("refreshauth.urls")),
    path("api/me/", MeView.as_view(), name="me"),
]
