"""Start the example project under gunicorn (several workers and threads) or uvicorn
(several workers, ASGI) and talk to it over HTTP, as a deployment would run it.

``serve()`` picks the server named by ``REFRESHAUTH_TEST_SERVER`` (``gunicorn``, the
default, or ``uvicorn``), so that one run of the server tests covers either."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SERVERS = ("gunicorn", "uvicorn")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Server:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def request(
        self,
        method: str,
        path: str,
        data: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Answer:
        all_headers = dict(headers or {})
        body = raw
        if data is not None:
            body = json.dumps(data).encode()
            all_headers.setdefault("Content-Type", "application/json")
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.base_url + path, data=body, method=method, headers=all_headers
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())

    def post(self, path: str, data: Any = None, **kwargs: Any) -> Answer:
        return self.request("POST", path, data, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_database_url(tmp: Path) -> str:
    """The test run's PostgreSQL or MariaDB/MySQL server with a database of the server's
    own, or a SQLite file: never the database pytest-django is using."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres", "pgsql", "mysql", "mariadb")):
        parts = urlsplit(url)
        suffix = "".join(c for c in tmp.name.lower() if c.isalnum())
        return urlunsplit(parts._replace(path=f"{parts.path or '/refreshauth'}_{suffix}"))
    return f"sqlite:///{tmp / 'server.sqlite3'}"


def environment(tmp: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.server_settings",
        "DATABASE_URL": server_database_url(tmp),
        "CACHE_DIR": str(tmp / "cache"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REFRESHAUTH_REDIS_URL", None)
    if os.environ.get("REDIS_URL"):
        # Redis databases of the servers' own (2, and 3 for refreshauth's session state):
        # the tests clear theirs (0 and 1) between tests.
        env["REDIS_URL"] = urlunsplit(urlsplit(os.environ["REDIS_URL"])._replace(path="/2"))
    env.update(extra or {})
    return env


def recreate_database(url: str) -> None:
    """Drop and create the database that ``url`` names, on PostgreSQL or MariaDB/MySQL."""
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if parts.scheme.startswith(("postgres", "pgsql")):
        # psql knows no Django options in the query string.
        admin = urlunsplit(parts._replace(path="/postgres", query=""))
        subprocess.run(
            ["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True
        )
        subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    elif parts.scheme in ("mysql", "mariadb"):
        import MySQLdb

        connection = MySQLdb.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
        )
        try:
            cursor = connection.cursor()
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        finally:
            connection.close()


def prepare(env: dict[str, str]) -> None:
    recreate_database(env["DATABASE_URL"])
    for command in (["migrate", "--noinput", "-v0"], ["demouser"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def serve(
    env: dict[str, str], workers: int = 3, threads: int = 4
) -> AbstractContextManager[Server]:
    """The example project under the server that ``REFRESHAUTH_TEST_SERVER`` names."""
    name = os.environ.get("REFRESHAUTH_TEST_SERVER") or "gunicorn"
    if name == "uvicorn":
        return uvicorn(env, workers=workers)
    if name != "gunicorn":
        raise ValueError(f"REFRESHAUTH_TEST_SERVER must be one of {SERVERS}, not {name!r}")
    return gunicorn(env, workers=workers, threads=threads)


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 3, threads: int = 4) -> Iterator[Server]:
    port = free_port()
    binary = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    command = [
        binary,
        "example_project.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--no-control-socket",
        "--access-logfile",
        "-",
        "--access-logformat",
        'access %(s)s "%(r)s"',
    ]
    with running(command, env, port, "gunicorn") as server:
        yield server


# uvicorn's access lines in the shape gunicorn writes above: "access <status> ...".
UVICORN_LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "default": {
            "()": "uvicorn.logging.DefaultFormatter",
            "fmt": "%(levelprefix)s %(message)s",
            "use_colors": False,
        },
        "access": {
            "()": "uvicorn.logging.AccessFormatter",
            "fmt": 'access %(status_code)s "%(request_line)s"',
            "use_colors": False,
        },
    },
    "handlers": {
        "default": {"class": "logging.StreamHandler", "formatter": "default"},
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "access",
            "stream": "ext://sys.stdout",
        },
    },
    "loggers": {
        "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}


@contextmanager
def uvicorn(env: dict[str, str], workers: int = 3) -> Iterator[Server]:
    """The example project's ASGI application under uvicorn. Django runs the sync views
    in a thread of each worker process, one request at a time per process."""
    port = free_port()
    binary = shutil.which("uvicorn", path=str(Path(sys.executable).parent)) or "uvicorn"
    log_config = Path(env["CACHE_DIR"]).parent / f"uvicorn-{port}.json"
    log_config.write_text(json.dumps(UVICORN_LOGGING))
    command = [
        binary,
        "example_project.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--lifespan",
        "off",
        "--timeout-graceful-shutdown",
        "5",
        "--log-config",
        str(log_config),
    ]
    with running(command, env, port, "uvicorn") as server:
        yield server


@contextmanager
def running(command: list[str], env: dict[str, str], port: int, name: str) -> Iterator[Server]:
    """Run a server ``command`` listening on ``port``, yield it once it answers, stop it,
    and fail when any request was answered with a 500."""
    log = open(Path(env["CACHE_DIR"]).parent / f"{name}-{port}.log", "wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if server.get("/api/auth/jwks/").status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start: see {log.name}")
            time.sleep(0.2)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
    # After the tests: no request may have been answered with a 500.
    errors = [
        line
        for line in Path(log.name).read_text(errors="replace").splitlines()
        if line.startswith("access 500") or "Traceback" in line
    ]
    assert not errors, f"server errors in {log.name}: {errors[:5]}"
