"""``include("refreshauth.urls")``; or ``include(patterns("cookie"))`` for a second mount
with another transport (a browser app beside mobile clients), and
``include(patterns("cookie", access="cookie"))`` for one with both tokens in cookies (a
backend-for-frontend)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, path

from . import views

app_name = "refreshauth"

TRANSPORTS = (None, "body", "cookie")
ACCESS_TRANSPORTS = (None, "header", "cookie")


def patterns(transport: str | None = None, *, access: str | None = None) -> list[URLPattern]:
    """refreshauth's URL patterns; ``transport`` ("body" or "cookie") overrides
    ``REFRESH_TOKEN_TRANSPORT`` and ``access`` ("header" or "cookie") overrides
    ``ACCESS_TOKEN_TRANSPORT`` for these views. Include a second set under its own
    namespace: ``include((patterns("cookie"), "refreshauth_cookie"))``.

    The access cookie needs the refresh cookie, which renews it: ``access="cookie"``
    implies ``transport="cookie"``, and a ``"body"`` mount keeps the access token in the
    body whatever ``ACCESS_TOKEN_TRANSPORT`` says.
    """
    if transport not in TRANSPORTS:
        raise ImproperlyConfigured(f"transport must be 'body' or 'cookie', not {transport!r}.")
    if access not in ACCESS_TRANSPORTS:
        raise ImproperlyConfigured(f"access must be 'header' or 'cookie', not {access!r}.")
    if access == "cookie":
        if transport == "body":
            raise ImproperlyConfigured(
                "patterns('body', access='cookie'): the access cookie needs the refresh "
                "cookie, which renews it."
            )
        transport = "cookie"
    elif transport == "body":
        access = "header"
    kwargs: dict[str, Any] = {}
    if transport:
        kwargs["transport"] = transport
    if access:
        kwargs["access_transport"] = access
    return [
        path("login/", views.LoginView.as_view(**kwargs), name="login"),
        path("refresh/", views.RefreshView.as_view(**kwargs), name="refresh"),
        path("logout/", views.LogoutView.as_view(**kwargs), name="logout"),
        path("logout-all/", views.LogoutAllView.as_view(**kwargs), name="logout-all"),
        path("sessions/", views.SessionListView.as_view(), name="sessions"),
        path("sessions/<str:session_id>/", views.SessionDetailView.as_view(), name="session"),
        path("csrf/", views.CSRFView.as_view(**kwargs), name="csrf"),
        path("jwks/", views.JWKSView.as_view(), name="jwks"),
    ]


urlpatterns = patterns()
