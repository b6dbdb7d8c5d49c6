"""The example project with djangorestframework-simplejwt beside refreshauth, configured as
simplejwt's documentation recommends for rotation: ROTATE_REFRESH_TOKENS and
BLACKLIST_AFTER_ROTATION with its token_blacklist app. Same database, same hasher."""

import os
from datetime import timedelta

from example_project.settings import *  # noqa: F403
from example_project.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework_simplejwt.token_blacklist"]
ROOT_URLCONF = "bench.urls"
DEBUG = False
# One fast hasher for both: the benchmark measures the libraries, not PBKDF2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if not os.environ.get("REDIS_URL") and not os.environ.get("BENCH_SHARED_CACHE"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": "bench-simplejwt-signing-key-" + "s" * 40,
}
REFRESHAUTH = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
