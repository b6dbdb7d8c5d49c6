"""Test settings: the example project, on SQLite and the local-memory cache unless
DATABASE_URL and REDIS_URL point at PostgreSQL and Redis."""

import os

from example_project.settings import *  # noqa: F403
from example_project.settings import BASE_DIR, sqlite_database

if not os.environ.get("DATABASE_URL"):
    # A file, not SQLite's shared in-memory database, whose table locks ignore the busy
    # timeout: the tests that run two writers at once need real file locking.
    DATABASES = {"default": sqlite_database(BASE_DIR / ".test-db.sqlite3")}
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}

if not os.environ.get("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REFRESHAUTH = {}
