"""``include("refreshauth.urls")``; or ``include(patterns("cookie"))`` for a second mount
with another transport (a browser app beside mobile clients)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

app_name = "refreshauth"


def patterns(transport: str | None = None) -> list[URLPattern]:
    """refreshauth's URL patterns; ``transport`` ("body" or "cookie") overrides
    ``REFRESH_TOKEN_TRANSPORT`` for these views. Include a second set under its own
    namespace: ``include((patterns("cookie"), "refreshauth_cookie"))``."""
    kwargs = {"transport": transport} if transport else {}
    return [
        path("login/", views.LoginView.as_view(**kwargs), name="login"),
        path("refresh/", views.RefreshView.as_view(**kwargs), name="refresh"),
        path("logout/", views.LogoutView.as_view(**kwargs), name="logout"),
        path("logout-all/", views.LogoutAllView.as_view(), name="logout-all"),
        path("sessions/", views.SessionListView.as_view(), name="sessions"),
        path("sessions/<str:session_id>/", views.SessionDetailView.as_view(), name="session"),
        path("csrf/", views.CSRFView.as_view(**kwargs), name="csrf"),
        path("jwks/", views.JWKSView.as_view(), name="jwks"),
    ]


urlpatterns = patterns()
