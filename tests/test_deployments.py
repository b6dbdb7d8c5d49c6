"""The example project's settings for the deployments that the test suite runs (SPEC
section 9): the database URLs it reads (PostgreSQL, behind PgBouncer or not; MariaDB and
MySQL; SQLite), and its two caches, kept apart, which ``check --deploy`` finds sound."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from example_project.settings import database_from_url, redis_database

from .server import ROOT


def test_postgres_url() -> None:
    config = database_from_url("postgres://ann:p%40ss@db.example:6432/app")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "ann",
        "p@ss",
        "db.example",
        "6432",
    )
    assert config["NAME"] == "app"
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is False


@pytest.mark.parametrize("value", ["1", "true", "on"])
def test_postgres_behind_pgbouncer_disables_server_side_cursors(value: str) -> None:
    url = f"postgresql://ann@127.0.0.1:6432/app?disable_server_side_cursors={value}"
    config = database_from_url(url)
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert config["NAME"] == "app"


@pytest.mark.parametrize("scheme", ["mysql", "mariadb"])
def test_mysql_and_mariadb_urls(scheme: str) -> None:
    config = database_from_url(f"{scheme}://ann:secret@127.0.0.1:3306/app")
    assert config["ENGINE"] == "django.db.backends.mysql"
    assert (config["NAME"], config["USER"], config["PASSWORD"], config["PORT"]) == (
        "app",
        "ann",
        "secret",
        "3306",
    )
    # Four-byte UTF-8 (user agents, device names) and a rotation race with one winner.
    assert config["OPTIONS"] == {"charset": "utf8mb4", "isolation_level": "read committed"}
    assert config["TEST"]["CHARSET"] == "utf8mb4"


def test_sqlite_url_and_unknown_schemes() -> None:
    config = database_from_url("sqlite:////srv/app/db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/srv/app/db.sqlite3"
    with pytest.raises(ValueError, match="oracle"):
        database_from_url("oracle://ann@db/app")


def test_the_session_state_gets_a_redis_database_of_its_own() -> None:
    assert redis_database("redis://127.0.0.1:6379/0", 1) == "redis://127.0.0.1:6379/1"
    assert redis_database("redis://127.0.0.1:6379", 1) == "redis://127.0.0.1:6379/1"
    assert redis_database("redis://:pw@cache:6379/4", 1) == "redis://:pw@cache:6379/5"


# What the example project's settings read, taken from the test run's own environment.
EXAMPLE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "REFRESHAUTH_REDIS_URL", "REFRESHAUTH_CACHE_DIR")


def example(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``manage.py`` on the example project's own settings, with ``env`` on top."""
    environ = {key: value for key, value in os.environ.items() if key not in EXAMPLE_VARIABLES}
    environ.update(
        DJANGO_SETTINGS_MODULE="example_project.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CACHE_DIR=str(tmp_path / "cache"),
        **env,
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


CACHES = """
from django.conf import settings
from django.core.cache import caches
alias = settings.REFRESHAUTH["CACHE_ALIAS"]
print(alias, settings.RATELIMIT_USE_CACHE)
for name in ("default", alias):
    print(settings.CACHES[name]["BACKEND"], settings.CACHES[name]["LOCATION"])
"""


@pytest.mark.parametrize("redis", [False, True], ids=["file caches", "redis"])
def test_session_state_and_rate_limits_use_separate_caches(tmp_path: Path, redis: bool) -> None:
    env = {"REDIS_URL": "redis://127.0.0.1:6379/0"} if redis else {}
    result = example(tmp_path, "shell", "-v", "0", "-c", CACHES, **env)
    assert result.returncode == 0, result.stderr
    aliases, rate_limits, state = result.stdout.splitlines()
    assert aliases == "refreshauth default"
    assert rate_limits != state
    if redis:
        assert state.endswith("redis://127.0.0.1:6379/1")
    else:
        assert state.split()[1] == str(tmp_path / "cache-refreshauth")


@pytest.mark.parametrize("redis", [False, True], ids=["file caches", "redis"])
def test_check_deploy_finds_the_example_caches_sound(tmp_path: Path, redis: bool) -> None:
    """No warning that the session-state cache is local to a process (W002), that the
    rate-limit cache is (W003), that they are one cache (W006), or that the state cache
    evicts early (W007)."""
    env = {"REDIS_URL": "redis://127.0.0.1:6379/0"} if redis else {}
    result = example(tmp_path, "check", "--deploy", **env)
    output = result.stdout + result.stderr
    for warning in (
        "refreshauth.W002",
        "refreshauth.W003",
        "refreshauth.W006",
        "refreshauth.W007",
    ):
        assert warning not in output, output


def test_the_asgi_application_loads() -> None:
    from example_project.asgi import application

    assert callable(application)
