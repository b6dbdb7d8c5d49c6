"""A project like the example, on djangorestframework-simplejwt instead of refreshauth,
for the load scenarios: the same middleware, database, caches and hasher, simplejwt's
JWTAuthentication as the default authentication class, rotation with its blacklist as
its documentation recommends (as in bench/settings.py), and a ``GET /api/me/`` that
answers as the example's does."""

from bench.settings import SIMPLE_JWT  # noqa: F401
from example_project.settings import *  # noqa: F403
from example_project.settings import INSTALLED_APPS, REST_FRAMEWORK

INSTALLED_APPS = [
    *(app for app in INSTALLED_APPS if app not in ("refreshauth", "example_project.demo")),
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
]
ROOT_URLCONF = "bench.simplejwt_urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {
    **{key: value for key, value in REST_FRAMEWORK.items() if key != "EXCEPTION_HANDLER"},
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication"
    ],
}
