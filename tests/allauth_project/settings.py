"""A project with django-allauth's headless app client and refreshauth's token strategy."""

from tests.settings import *  # noqa: F403
from tests.settings import BASE_DIR, DATABASES, INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [
    *INSTALLED_APPS,
    "allauth",
    "allauth.account",
    "allauth.headless",
    "allauth.usersessions",
    "refreshauth.contrib.allauth",
]
MIDDLEWARE = [*MIDDLEWARE, "allauth.account.middleware.AccountMiddleware"]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ROOT_URLCONF = "tests.allauth_project.urls"

HEADLESS_ONLY = True
HEADLESS_CLIENTS = ["app"]
HEADLESS_TOKEN_STRATEGY = "refreshauth.contrib.allauth.RefreshAuthTokenStrategy"
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": "app://verify-email/{key}",
    "account_reset_password_from_key": "app://reset/{key}",
    "account_signup": "app://signup",
}
# For the comparison with allauth's own JWT strategy, switched on by some tests.
HEADLESS_JWT_ALGORITHM = "HS256"
HEADLESS_JWT_PRIVATE_KEY = "allauth-jwt-test-key-0123456789abcdefghijklmnopqrstuvwxyz"
HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN = 7 * 24 * 3600  # as REFRESH_TOKEN_LIFETIME

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_RATE_LIMITS = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# A test database of its own: the main test run has its own open.
DATABASES = {"default": {**DATABASES["default"]}}
DATABASES["default"]["TEST"] = {
    "NAME": str(BASE_DIR / ".test-db-allauth.sqlite3")
    if DATABASES["default"]["ENGINE"].endswith("sqlite3")
    else "test_refreshauth_allauth"
}
