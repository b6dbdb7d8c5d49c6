"""Test settings: the example project, on SQLite and the local-memory cache unless
DATABASE_URL and REDIS_URL point at PostgreSQL and Redis."""

import os

from example_project.settings import *  # noqa: F403
from example_project.settings import BASE_DIR, DATABASES, sqlite_database

if not os.environ.get("DATABASE_URL"):
    # A file, not SQLite's shared in-memory database, whose table locks ignore the busy
    # timeout: the tests that run two writers at once need real file locking. One per
    # test process, so that two runs on one checkout do not share it.
    DATABASES = {
        alias: {
            **sqlite_database(BASE_DIR / f".test-db-{alias}.sqlite3"),
            "TEST": {"NAME": str(BASE_DIR / f".test-db.sqlite3.{alias}.{os.getpid()}")},
        }
        for alias in ("default", "replica")
    }
else:
    # A second database of the same server: the stale replica of tests/test_replicas.py,
    # used only by the tests that route reads to it.
    DATABASES["replica"] = {
        **DATABASES["default"],
        "NAME": DATABASES["default"]["NAME"] + "_replica",
    }

if not os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "refreshauth": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "refreshauth",
        },
    }

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REFRESHAUTH = {}
