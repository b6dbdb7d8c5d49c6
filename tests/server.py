"""Start the example project under gunicorn (several workers and threads) and talk to it
over HTTP, as a deployment would run it."""

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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


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
    """The test run's PostgreSQL server with a database of the server's own, or a SQLite
    file: never the database pytest-django is using."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres", "pgsql")):
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
    if os.environ.get("REDIS_URL"):
        # A Redis database of the servers' own: the tests clear theirs between tests.
        env["REDIS_URL"] = urlunsplit(urlsplit(os.environ["REDIS_URL"])._replace(path="/1"))
    env.update(extra or {})
    return env


def prepare(env: dict[str, str]) -> None:
    url = env["DATABASE_URL"]
    if url.startswith(("postgres", "pgsql")):
        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        admin = urlunsplit(parts._replace(path="/postgres"))
        subprocess.run(
            ["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True
        )
        subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    for command in (["migrate", "--noinput", "-v0"], ["demouser"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 3, threads: int = 4) -> Iterator[Server]:
    port = free_port()
    binary = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    log = open(Path(env["CACHE_DIR"]).parent / f"gunicorn-{port}.log", "wb")
    process = subprocess.Popen(
        [
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
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
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
                raise RuntimeError(f"gunicorn did not start: see {log.name}")
            time.sleep(0.2)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
    # After the tests: no request may have been answered with a 500.
    errors = [
        line
        for line in Path(log.name).read_text(errors="replace").splitlines()
        if line.startswith("access 500") or "Traceback" in line
    ]
    assert not errors, f"server errors in {log.name}: {errors[:5]}"
