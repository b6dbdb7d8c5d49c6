"""A project with django-axes guarding logins, refreshauth's login/ among them."""

from datetime import timedelta

from tests.settings import *  # noqa: F403
from tests.settings import BASE_DIR, DATABASES, INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [*INSTALLED_APPS, "axes"]
MIDDLEWARE = [
    *MIDDLEWARE,
    "refreshauth.contrib.axes.LockoutMiddleware",
    "axes.middleware.AxesMiddleware",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 3
AXES_COOLOFF_TIME = timedelta(minutes=10)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# refreshauth's own limit of failed logins is higher than axes' here, so that axes is
# the one that locks; the tests lower it to show the two side by side.
REFRESHAUTH = {"LOGIN_RATE": "10/m"}

# A test database of its own: the main test run has its own open.
DATABASES = {"default": {**DATABASES["default"]}}
DATABASES["default"]["TEST"] = {
    "NAME": str(BASE_DIR / ".test-db-axes.sqlite3")
    if DATABASES["default"]["ENGINE"].endswith("sqlite3")
    else "test_refreshauth_axes"
}
