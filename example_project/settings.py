"""Settings of the refreshauth example project.

SQLite by default; ``DATABASE_URL`` selects another database:
``postgres://user:pass@host:port/name`` (add ``?disable_server_side_cursors=1`` behind
PgBouncer in transaction pooling mode), ``mysql://user:pass@host:port/name`` (or
``mariadb://``, with mysqlclient installed) or ``sqlite:///path``. ``REDIS_URL`` selects
Redis for the caches.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "example-project-insecure-key-change-me-0123456789abcdefghijklmnop"
)
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "refreshauth",
    "example_project.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_from_url(url: str) -> dict[str, Any]:
    """A ``DATABASES`` entry for a ``postgres://``, ``mysql://`` (``mariadb://``) or
    ``sqlite:///`` URL."""
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    server = {
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            **server,
            # Behind PgBouncer in transaction pooling mode a server-side cursor would
            # outlive the transaction that opened it on the server's connection.
            "DISABLE_SERVER_SIDE_CURSORS": _flag(query.get("disable_server_side_cursors")),
        }
    if parts.scheme in ("mysql", "mariadb"):
        return {
            "ENGINE": "django.db.backends.mysql",
            **server,
            "OPTIONS": {
                "charset": "utf8mb4",
                # Each statement sees what committed before it: the rotation's conditional
                # UPDATE of a row that another rotation just changed matches nothing.
                "isolation_level": "read committed",
            },
            "TEST": {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
        }
    if parts.scheme == "sqlite":
        return sqlite_database(
            unquote(parts.path[1:] if parts.path.startswith("//") else parts.path)
        )
    raise ValueError(f"DATABASE_URL scheme {parts.scheme!r} is not supported")


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


def sqlite_database(name: str | Path) -> dict[str, Any]:
    # IMMEDIATE transactions and a busy timeout: concurrent rotations wait for the
    # write lock instead of failing with "database is locked"; WAL lets reads go on.
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(name),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


DATABASES = {
    "default": database_from_url(os.environ["DATABASE_URL"])
    if os.environ.get("DATABASE_URL")
    else sqlite_database(BASE_DIR / "db.sqlite3")
}

# A read replica (any URL that DATABASE_URL takes): reads go to it, writes to "default".
if os.environ.get("REPLICA_DATABASE_URL"):
    DATABASES["replica"] = database_from_url(os.environ["REPLICA_DATABASE_URL"])
    DATABASE_ROUTERS = ["example_project.routers.PrimaryReplicaRouter"]

# Rate-limit counters ("default") and refreshauth's session-state cache ("refreshauth")
# must be shared by every worker process, and are kept apart: counters are many and
# short-lived, and must not push session state out. Redis when REDIS_URL is set (the
# session state in the next Redis database, or REFRESHAUTH_REDIS_URL), else file-based
# caches on this machine, each in its own directory (with atomic counters:
# example_project/cache.py); the session-state one never culls.


def redis_database(url: str, offset: int) -> str:
    """``url`` with its Redis database number moved by ``offset``."""
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{number + offset}"))


CACHES: dict[str, dict[str, Any]]
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        },
        "refreshauth": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("REFRESHAUTH_REDIS_URL")
            or redis_database(os.environ["REDIS_URL"], 1),
        },
    }
else:
    _CACHE_DIR = Path(os.environ.get("CACHE_DIR", BASE_DIR / ".cache" / "django"))
    CACHES = {
        "default": {
            "BACKEND": "example_project.cache.LockedFileBasedCache",
            "LOCATION": str(_CACHE_DIR),
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        },
        "refreshauth": {
            "BACKEND": "example_project.cache.LockedFileBasedCache",
            "LOCATION": os.environ.get("REFRESHAUTH_CACHE_DIR")
            or str(_CACHE_DIR.with_name(f"{_CACHE_DIR.name}-refreshauth")),
            "OPTIONS": {"MAX_ENTRIES": 1_000_000_000},
        },
    }
RATELIMIT_USE_CACHE = "default"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["refreshauth.authentication.AccessTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "refreshauth.views.exception_handler",
}

# The OpenAPI schema and its UI, when refreshauth[openapi] is installed.
try:
    import drf_spectacular  # noqa: F401
    import drf_spectacular_sidecar  # noqa: F401
except ImportError:
    OPENAPI = False
else:
    OPENAPI = True
    INSTALLED_APPS += ["drf_spectacular", "drf_spectacular_sidecar"]
    REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "drf_spectacular.openapi.AutoSchema"
    SPECTACULAR_SETTINGS = {
        "TITLE": "refreshauth example API",
        "VERSION": "1",
        "SERVE_INCLUDE_SCHEMA": False,
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
        "COMPONENT_SPLIT_REQUEST": True,
    }

REFRESHAUTH = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "SESSION_MAX_LIFETIME": timedelta(days=30),
    "REUSE_GRACE_PERIOD": timedelta(0),
    "REFRESH_TOKEN_TRANSPORT": "body",
    "CACHE_ALIAS": "refreshauth",
}

# `make demo` sets these: access tokens of a few seconds, so that a visit to the demo page
# sees silent refreshes, and the page's "stolen token" button (example_project/demo). The
# defaults above hold for everyone else.
if os.environ.get("REFRESHAUTH_DEMO_ACCESS_SECONDS"):
    REFRESHAUTH["ACCESS_TOKEN_LIFETIME"] = timedelta(
        seconds=int(os.environ["REFRESHAUTH_DEMO_ACCESS_SECONDS"])
    )
DEMO_THEFT = os.environ.get("REFRESHAUTH_DEMO_THEFT", "") == "1"
# DPoP for the demo page's toggle and its browser tests: "allowed" or "required".
if os.environ.get("REFRESHAUTH_DPOP"):
    REFRESHAUTH["DPOP"] = os.environ["REFRESHAUTH_DPOP"]

# Warnings of refreshauth (a database or cache that cannot answer) go to the console.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"refreshauth": {"handlers": ["console"], "level": "WARNING"}},
}
