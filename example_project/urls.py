from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import include, path, re_path

from refreshauth.urls import patterns

from .demo.views import DemoPage, MeView, StealView

urlpatterns = [
    path("", DemoPage.as_view(), name="demo"),
    path("admin/", admin.site.urls),
    # For API clients: tokens in the JSON body.
    path("api/auth/", include("refreshauth.urls")),
    # For the browser demo: the refresh token in an HttpOnly cookie, behind CSRF.
    path("demo/auth/", include((patterns("cookie"), "refreshauth_cookie"))),
    # The demo's token thief (off unless REFRESHAUTH_DEMO_THEFT=1): under the cookie's path.
    path("demo/auth/steal/", StealView.as_view(), name="demo-steal"),
    # For a backend-for-frontend: both tokens in HttpOnly cookies, behind CSRF.
    path("bff/auth/", include((patterns("cookie", access="cookie"), "refreshauth_bff"))),
    path("api/me/", MeView.as_view(), name="me"),
    # The example serves its own static files so that it runs as it is under gunicorn;
    # a deployment runs collectstatic and lets its web server do this.
    re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}),
]

if settings.OPENAPI:
    from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

    urlpatterns += [
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        path(
            "api/schema/ui/", SpectacularSwaggerView.as_view(url_name="schema"), name="schema-ui"
        ),
    ]
