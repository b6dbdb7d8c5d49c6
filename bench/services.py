"""Throwaway PostgreSQL and Redis servers for the benchmark's load scenarios, each in a
temporary directory, listening on 127.0.0.1 on a free port, stopped when the block ends.

PostgreSQL runs with its stock settings (``fsync`` and ``synchronous_commit`` on, as a
deployment has them) except ``max_connections``, raised for three servers of 32 threads
each. As root, ``initdb`` and the server run as the ``postgres`` user, as Debian's
packages expect.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.server import free_port


@dataclass
class Service:
    url: str
    pid: int


def postgres_binaries() -> Path | None:
    """The newest PostgreSQL server binaries on this machine, or None."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: [int(part) for part in p.parent.parent.name.split(".") if part.isdigit()],
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _as_postgres() -> dict[str, object]:
    """Popen arguments that run a PostgreSQL binary as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam("postgres")
    return {"user": user.pw_uid, "group": user.pw_gid}


@contextmanager
def postgres(tmp: Path) -> Iterator[Service]:
    binaries = postgres_binaries()
    if binaries is None:
        raise RuntimeError("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    data = tmp / "postgres"
    data.mkdir()
    run_as = _as_postgres()
    if run_as:
        os.chmod(tmp, 0o755)  # noqa: S103 (the postgres user must reach its directory)
        os.chown(data, run_as["user"], run_as["group"])  # type: ignore[arg-type]
    port = free_port()
    quiet = {"stdout": subprocess.DEVNULL, "check": True, **run_as}
    subprocess.run(
        [binaries / "initdb", "-D", data, "-A", "trust", "-U", "postgres"],
        **quiet,  # type: ignore[call-overload]
    )
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=400"
    pg_ctl = [str(binaries / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        [*pg_ctl, "-l", str(data / "server.log"), "-w", "start", "-o", options],
        **quiet,  # type: ignore[call-overload]
    )
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        yield Service(f"postgres://postgres@127.0.0.1:{port}/refreshauth_bench", pid)
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], **quiet)  # type: ignore[call-overload]


@contextmanager
def redis(tmp: Path) -> Iterator[Service]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("no redis-server on this machine")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxmemory-policy",
            "noeviction",
            "--dir",
            str(tmp),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        import redis as client

        deadline = time.monotonic() + 30
        while True:
            try:
                client.Redis(port=port).ping()
                break
            except client.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.1)
        yield Service(f"redis://127.0.0.1:{port}/0", process.pid)
    finally:
        process.terminate()
        process.wait(timeout=15)
