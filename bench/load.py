"""Load over real HTTP: the example project (refreshauth) and a simplejwt project under
gunicorn on PostgreSQL, driven by clients in processes of their own.

Scenarios, each for a fixed time after a warm-up, every client with a session of its own
and one keep-alive connection (``http.client``) in a thread of its own:

- ``mixed``: each client loops one refresh and five ``GET /api/me/`` with the access
  token it got;
- ``refresh``: each client chains refreshes only;
- ``mixed`` with DPoP-bound sessions (refreshauth only): every login, refresh and GET
  carries a fresh ES256 proof that the client signs (the time it spends signing is
  measured apart, so that the server's share stays visible).

Requests per second count the requests started in the measured window; latencies are
per kind (refresh, GET); an error is any answer but 200 or a failed connection. While a
scenario runs, the CPU time of the servers, the clients, PostgreSQL and Redis (when this
run started them) and of the whole machine is read from /proc, so the report says what
each request cost the server and how much of the machine the clients and everyone else
took.

``python -m bench.load prepare`` (run by the orchestrator with a project's settings)
migrates and creates the clients' users; ``python -m bench.load client`` is one client
process.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-load-password"
GETS_PER_REFRESH = 5


@dataclass(frozen=True)
class Library:
    name: str
    settings: str
    login: str
    refresh: str
    refresh_field: str
    access_field: str
    me: str = "/api/me/"


REFRESHAUTH = Library(
    "refreshauth",
    "bench.refreshauth_project",
    "/api/auth/login/",
    "/api/auth/refresh/",
    "refresh_token",
    "access_token",
)
SIMPLEJWT = Library(
    "simplejwt",
    "bench.simplejwt_project",
    "/api/token/",
    "/api/token/refresh/",
    "refresh",
    "access",
)


@dataclass(frozen=True)
class Scenario:
    key: str  # the figures' key: "mixed", "refresh" or "mixed_dpop"
    library: Library
    server: str  # which of the running servers
    mixed: bool
    dpop: bool = False


SCENARIOS = [
    Scenario("mixed", SIMPLEJWT, "simplejwt", mixed=True),
    Scenario("mixed", REFRESHAUTH, "refreshauth", mixed=True),
    Scenario("refresh", SIMPLEJWT, "simplejwt", mixed=False),
    Scenario("refresh", REFRESHAUTH, "refreshauth", mixed=False),
    Scenario("mixed_dpop", REFRESHAUTH, "refreshauth_dpop", mixed=True, dpop=True),
]


@dataclass
class Options:
    database_url: str  # a PostgreSQL server; each server gets a database of its own
    redis_url: str = ""  # refreshauth's caches; file-based caches when empty
    clients: int = 32
    processes: int = 4  # client processes, the clients spread over them
    workers: int = 4
    threads: int = 8
    warmup: float = 5.0
    duration: float = 30.0
    tmp: Path = Path()  # where the servers' logs and file caches go
    watch_pids: dict[str, int] = field(default_factory=dict)  # PostgreSQL, Redis
    profile: bool = False


# --- the client --------------------------------------------------------------------


class Key:
    """A client's DPoP key (ES256) and the proofs it signs, with its signing CPU time."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec
        from jwt.algorithms import ECAlgorithm

        self.private = ec.generate_private_key(ec.SECP256R1())
        self.jwk = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.header = {"typ": "dpop+jwt", "jwk": self.jwk}
        self.signing_seconds = 0.0
        self.signed = 0

    def proof(self, method: str, url: str, access_token: str | None = None) -> str:
        import jwt

        from refreshauth.dpop import ath_of

        started = time.thread_time()
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": int(time.time()),
        }
        if access_token is not None:
            claims["ath"] = ath_of(access_token)
        proof = jwt.encode(claims, self.private, "ES256", headers=self.header)
        self.signing_seconds += time.thread_time() - started
        self.signed += 1
        return proof


class Client:
    """One client: a session of its own over one keep-alive connection."""

    def __init__(self, spec: dict[str, Any], username: str) -> None:
        self.spec = spec
        self.library = Library(**spec["library"])
        self.base = spec["base_url"]
        parts = urlsplit(self.base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.username = username
        self.key = Key() if spec["dpop"] else None
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.latencies: dict[str, list[float]] = {"refresh": [], "get": []}
        self.errors: Counter[str] = Counter()
        self.access = self.refresh_token = ""
        self.measuring = False
        self.signing_at_start = 0.0
        self.signed_at_start = 0

    def request(
        self, method: str, path: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: one new connection.
                self.connection.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def login(self) -> None:
        headers: dict[str, str] = {}
        if self.key is not None:
            headers["DPoP"] = self.key.proof("POST", self.base + self.library.login)
        status, body = self.request(
            "POST", self.library.login, {"username": self.username, "password": PASSWORD}, headers
        )
        if status != 200:
            raise RuntimeError(f"login of {self.username} answered {status}: {body[:200]!r}")
        self.take(json.loads(body))

    def take(self, answer: dict[str, Any]) -> None:
        self.access = answer[self.library.access_field]
        self.refresh_token = answer[self.library.refresh_field]

    def refresh(self) -> bool:
        headers: dict[str, str] = {}
        if self.key is not None:
            headers["DPoP"] = self.key.proof("POST", self.base + self.library.refresh)
        status, body = self.request(
            "POST", self.library.refresh, {self.library.refresh_field: self.refresh_token}, headers
        )
        if status == 200:
            self.take(json.loads(body))
            return True
        self.errors[f"refresh {status}"] += 1
        return False

    def get(self) -> bool:
        if self.key is not None:
            headers = {
                "Authorization": f"DPoP {self.access}",
                "DPoP": self.key.proof("GET", self.base + self.library.me, self.access),
            }
        else:
            headers = {"Authorization": f"Bearer {self.access}"}
        status, _ = self.request("GET", self.library.me, None, headers)
        if status == 200:
            return True
        self.errors[f"get {status}"] += 1
        return False

    def timed(self, kind: str, measuring: bool) -> None:
        started = time.monotonic()
        try:
            ok = self.refresh() if kind == "refresh" else self.get()
        except OSError as exc:
            self.errors[f"{kind} {type(exc).__name__}"] += 1
            self.connection.close()
            ok = False
        if not measuring:
            # Warm-up: errors are not counted either.
            self.errors.clear()
        elif ok:
            self.latencies[kind].append(round((time.monotonic() - started) * 1000, 3))
        if kind == "refresh" and not ok:
            self.login()  # the session's chain is broken: a new one

    def run(self, start: float, measure_from: float, end: float) -> None:
        time.sleep(max(0.0, start - time.monotonic()))
        kinds = ["refresh"] + ["get"] * GETS_PER_REFRESH if self.spec["mixed"] else ["refresh"]
        while True:
            for kind in kinds:
                now = time.monotonic()
                if now >= end:
                    return
                if now >= measure_from and not self.measuring:
                    self.measuring = True
                    if self.key is not None:
                        self.signing_at_start = self.key.signing_seconds
                        self.signed_at_start = self.key.signed
                self.timed(kind, self.measuring)


def client_main() -> None:
    """One client process: its clients log in, it says ``ready``, waits for ``go START
    MEASURE END`` (monotonic times) on stdin, runs them and prints its figures."""
    spec = json.loads(sys.stdin.readline())
    clients = [Client(spec, name) for name in spec["usernames"]]
    for client in clients:
        client.login()
    print("ready", flush=True)
    _, start, measure_from, end = sys.stdin.readline().split()
    threads = [
        threading.Thread(target=c.run, args=(float(start), float(measure_from), float(end)))
        for c in clients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    figures = {
        "latencies": {
            kind: [value for c in clients for value in c.latencies[kind]]
            for kind in ("refresh", "get")
        },
        "errors": dict(sum((c.errors for c in clients), Counter())),
        "signing_seconds": sum(
            c.key.signing_seconds - c.signing_at_start for c in clients if c.key is not None
        ),
        "proofs": sum(c.key.signed - c.signed_at_start for c in clients if c.key is not None),
    }
    print(json.dumps(figures), flush=True)


# --- a project's database and its users -------------------------------------------


def prepare_main() -> None:
    """Migrate the project of ``DJANGO_SETTINGS_MODULE`` and create the clients' users."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    count = int(sys.argv[2])
    model = get_user_model()
    password = make_password(PASSWORD)
    model.objects.bulk_create(
        [model(username=f"load{i}", password=password) for i in range(count)]
    )


def _psql(url: str, statement: str) -> None:
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres", query=""))
    psql = shutil.which("psql") or "psql"
    # No PGOPTIONS: PgBouncer refuses the "options" startup parameter. PostgreSQL's
    # notices ("does not exist, skipping") are kept out of the report, errors are not.
    done = subprocess.run(
        [psql, admin, "-qc", statement.format(name=parts.path.lstrip("/"))],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"psql failed ({done.returncode}): {done.stderr.strip()}")


def create_database(url: str) -> None:
    _psql(url, 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql(url, 'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    _psql(url, 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}"))


# --- CPU time from /proc ------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of ``pid``, or None once it is gone. The CPU time
    includes the children it has reaped (PostgreSQL's backends that ended), so that a
    tree's total never goes down."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), sum(int(v) for v in fields[11:15]) / TICK  # u, s, cu, cs time


def tree_cpu(roots: list[int]) -> float:
    """CPU seconds used so far by ``roots`` and all their live descendants."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (found := _stat(int(entry))) is not None:
            stats[int(entry)] = found
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo, seen = 0.0, list(roots), set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in stats:
            continue
        seen.add(pid)
        total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    total = sum(values[:8])  # guest time is already counted in user
    return (total - idle) / TICK, total / TICK


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, float]:
    snapshot = {name: tree_cpu(pids) for name, pids in groups.items()}
    snapshot["machine_busy"], snapshot["machine_total"] = machine_cpu()
    return snapshot


# --- servers --------------------------------------------------------------------------


@dataclass
class Running:
    name: str
    base_url: str
    pid: int
    log: Path


@contextmanager
def gunicorn(name: str, env: dict[str, str], options: Options) -> Iterator[Running]:
    """The project of ``env`` under gunicorn (gthread), without an access log."""
    from tests.server import free_port

    port = free_port()
    binary = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    log = options.tmp / f"gunicorn-{name}.log"
    command = [
        binary,
        "example_project.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "gthread",
        "--workers",
        str(options.workers),
        "--threads",
        str(options.threads),
        "--timeout",
        "120",
        "--graceful-timeout",
        "5",
        "--no-control-socket",
        "--error-logfile",
        str(log),
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    server = Running(name, f"http://127.0.0.1:{port}", process.pid, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/api/me/")
                if connection.getresponse().status == 401:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn for {name} did not start: see {log}")
            time.sleep(0.2)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_environment(
    name: str, library: Library, options: Options, dpop: bool
) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": library.settings,
        "DATABASE_URL": database_url(options.database_url, f"bench_load_{os.getpid()}_{name}"),
        "CACHE_DIR": str(options.tmp / f"cache-{name}"),
        "PYTHONPATH": str(ROOT),
    }
    for variable in ("REDIS_URL", "REFRESHAUTH_REDIS_URL", "REFRESHAUTH_DPOP"):
        env.pop(variable, None)
    if options.redis_url:
        env["REDIS_URL"] = options.redis_url
        # Each server's caches in Redis databases of their own: rate limits and sessions.
        index = {"refreshauth": 8, "simplejwt": 10, "refreshauth_dpop": 12}[name]
        env["REDIS_URL"] = urlunsplit(urlsplit(options.redis_url)._replace(path=f"/{index}"))
    if dpop:
        env["REFRESHAUTH_DPOP"] = "allowed"
    return env


def start_servers(stack: ExitStack, options: Options) -> dict[str, Running]:
    servers = {}
    for name, library, dpop in (
        ("simplejwt", SIMPLEJWT, False),
        ("refreshauth", REFRESHAUTH, False),
        ("refreshauth_dpop", REFRESHAUTH, True),
    ):
        env = server_environment(name, library, options, dpop)
        create_database(env["DATABASE_URL"])
        stack.callback(drop_database, env["DATABASE_URL"])
        subprocess.run(
            [sys.executable, "-m", "bench.load", "prepare", str(options.clients)],
            cwd=ROOT,
            env=env,
            check=True,
        )
        servers[name] = stack.enter_context(gunicorn(name, env, options))
    return servers


# --- one scenario -----------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (0 when there are none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def workers_of(pid: int) -> list[int]:
    return [
        int(entry)
        for entry in os.listdir("/proc")
        if entry.isdigit() and (found := _stat(int(entry))) is not None and found[0] == pid
    ]


@contextmanager
def profiled(
    scenario: Scenario, server: Running, options: Options, seconds: float
) -> Iterator[None]:
    """py-spy records one worker of ``server`` while the block runs, when asked to."""
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if not options.profile or spy is None:
        yield
        return
    worker = workers_of(server.pid)[0]
    output = ROOT / "bench" / "results" / f"profile-{scenario.key}-{scenario.library.name}.raw"
    output.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(worker),
            "--duration",
            str(max(1, int(seconds))),
            "--rate",
            "200",
            "--gil",
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.wait()
    if output.exists():
        from bench.profile import summarize

        output.with_suffix(".txt").write_text(summarize(output))


def run_scenario(scenario: Scenario, server: Running, options: Options) -> dict[str, Any]:
    """Run one scenario against ``server`` and return its figures."""
    prefix = {"simplejwt": "s", "refreshauth": "r", "refreshauth_dpop": "d"}[scenario.server]
    # Fresh sessions for every scenario: each client logs in again as its own user.
    usernames = [f"load{i}" for i in range(options.clients)]
    per_process = [usernames[i :: options.processes] for i in range(options.processes)]
    spec = {
        "library": scenario.library.__dict__,
        "base_url": server.base_url,
        "mixed": scenario.mixed,
        "dpop": scenario.dpop,
    }
    processes = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for names in per_process:
        if not names:
            continue
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.load", "client", prefix],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps({**spec, "usernames": names}) + "\n")
        process.stdin.flush()
        processes.append(process)
    for process in processes:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"a client of {scenario.key} ({scenario.library.name}) failed")
    start = time.monotonic() + 0.5
    measure_from = start + options.warmup
    end = measure_from + options.duration
    for process in processes:
        assert process.stdin is not None
        process.stdin.write(f"go {start} {measure_from} {end}\n")
        process.stdin.flush()
    groups = {
        "server": [server.pid],
        "clients": [p.pid for p in processes],
        **{name: [pid] for name, pid in options.watch_pids.items()},
    }
    time.sleep(max(0.0, measure_from - time.monotonic()))
    before = cpu_snapshot(groups)
    started = time.monotonic()
    with profiled(scenario, server, options, options.duration - 0.5):
        time.sleep(max(0.0, end - time.monotonic()))
    after = cpu_snapshot(groups)
    elapsed = time.monotonic() - started
    results = []
    for process in processes:
        out, _ = process.communicate(timeout=120)
        if process.returncode != 0:
            raise RuntimeError(f"a client of {scenario.key} exited {process.returncode}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    cpu = {name: after[name] - before[name] for name in after}
    latencies = {
        kind: [v for r in results for v in r["latencies"][kind]] for kind in ("refresh", "get")
    }
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r["errors"])
    requests = sum(len(v) for v in latencies.values())
    proofs = sum(r["proofs"] for r in results)
    signing = sum(r["signing_seconds"] for r in results)
    accounted = sum(cpu[name] for name in groups)
    return {
        "library": scenario.library.name,
        "dpop": scenario.dpop,
        "seconds": options.duration,
        "requests": requests,
        "requests_per_s": requests / options.duration,
        "refreshes_per_s": len(latencies["refresh"]) / options.duration,
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        **{
            f"{kind}_{name}_ms": percentile(latencies[kind], q)
            for kind in ("refresh", "get")
            for name, q in (("p50", 0.50), ("p99", 0.99))
        },
        "counts": {kind: len(values) for kind, values in latencies.items()},
        "cpu_seconds": {name: cpu[name] for name in groups},
        "server_cpu_ms_per_request": 1000 * cpu["server"] / requests if requests else 0.0,
        "client_cores": cpu["clients"] / elapsed,
        "signing_us_per_proof": 1e6 * signing / proofs if proofs else 0.0,
        "signing_share_of_clients": signing / cpu["clients"] if cpu["clients"] else 0.0,
        "machine_busy_cores": cpu["machine_busy"] / elapsed,
        "machine_cores": cpu["machine_total"] / elapsed,
        "others_cores": max(0.0, cpu["machine_busy"] - accounted) / elapsed,
    }


def run(options: Options, log: Any = print) -> dict[str, Any]:
    """Every scenario against servers started for them; the figures by scenario and
    library, e.g. ``figures["mixed"]["refreshauth"]``."""
    figures: dict[str, Any] = {
        "setup": {
            "clients": options.clients,
            "client_processes": options.processes,
            "workers": options.workers,
            "threads": options.threads,
            "warmup_seconds": options.warmup,
            "seconds": options.duration,
            "cache": "redis" if options.redis_url else "file",
            "load_before": os.getloadavg(),
        }
    }
    with ExitStack() as stack:
        log("  starting the servers ...")
        servers = start_servers(stack, options)
        for scenario in SCENARIOS:
            log(f"  {scenario.key} ({scenario.library.name}) ...")
            figures.setdefault(scenario.key, {})[scenario.library.name] = run_scenario(
                scenario, servers[scenario.server], options
            )
    figures["setup"]["load_after"] = os.getloadavg()
    figures["setup"]["server_errors"] = {
        name: [
            line
            for line in server.log.read_text(errors="replace").splitlines()
            if "Traceback" in line or "[ERROR]" in line
        ][:5]
        for name, server in servers.items()
    }
    return figures


# --- the report -------------------------------------------------------------------------

Line = tuple[str, str, str, str, str, str]


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def _latency(f: dict[str, Any], kind: str) -> str:
    return f"{f[f'{kind}_p50_ms']:.1f} / {f[f'{kind}_p99_ms']:.1f}"


def _side_by_side(
    scenario: str,
    figures: dict[str, Any],
    *,
    rate: str,
    at_least: float,
    latencies: dict[str, float | None],
) -> list[Line]:
    """The lines of one scenario run by both libraries: the rate (target: at least
    ``at_least`` times simplejwt's), latencies (target for a kind: p99 at most that share
    of simplejwt's), errors (target: none) and the servers' CPU per request."""
    ours, theirs = figures["refreshauth"], figures["simplejwt"]
    key = f"{rate}_per_s"
    lines: list[Line] = [
        (
            f"{scenario}: {rate} per second",
            f"{ours[key]:.0f}",
            f"{theirs[key]:.0f}",
            f"{_ratio(ours[key], theirs[key]):.2f}x",
            f">= {at_least:g}x",
            str(ours[key] >= at_least * theirs[key]),
        )
    ]
    for kind, at_most in latencies.items():
        p99 = f"{kind}_p99_ms"
        lines.append(
            (
                f"{scenario}: {LATENCY_LABELS[kind]} p50 / p99 (ms)",
                _latency(ours, kind),
                _latency(theirs, kind),
                f"p99 {_ratio(ours[p99], theirs[p99]):.2f}x",
                "" if at_most is None else f"p99 <= {at_most:g}x",
                "" if at_most is None else str(ours[p99] <= at_most * theirs[p99]),
            )
        )
    cpu = "server_cpu_ms_per_request"
    lines += [
        (
            f"{scenario}: errors",
            str(ours["errors"]),
            str(theirs["errors"]),
            "",
            "0",
            str(ours["errors"] == 0),
        ),
        (
            f"{scenario}: server CPU per request (ms)",
            f"{ours[cpu]:.2f}",
            f"{theirs[cpu]:.2f}",
            f"{_ratio(ours[cpu], theirs[cpu]):.2f}x",
            "",
            "",
        ),
    ]
    return lines


LATENCY_LABELS = {"refresh": "refresh", "get": "GET /api/me/"}


def report(load: dict[str, Any]) -> list[Line]:
    """Lines of the benchmark's table for the load scenarios: (figure, refreshauth,
    simplejwt, ratio, target, met)."""
    mixed, chained = load["mixed"], load["refresh"]
    lines = _side_by_side(
        "(a) mixed load",
        mixed,
        rate="requests",
        at_least=1.5,
        latencies={"refresh": 0.5, "get": None},
    )
    lines += _side_by_side(
        "(b) chained refreshes", chained, rate="refreshes", at_least=3, latencies={"refresh": None}
    )
    if "mixed_dpop" in load:
        bound, bearer = load["mixed_dpop"]["refreshauth"], mixed["refreshauth"]
        lines += [
            (
                "(a) DPoP-bound: requests per second",
                f"{bound['requests_per_s']:.0f}",
                "no DPoP",
                f"{_ratio(bound['requests_per_s'], bearer['requests_per_s']):.2f}x bearer",
                "",
                "",
            ),
            (
                "(a) DPoP-bound: refresh / GET p50 / p99 (ms)",
                f"{_latency(bound, 'refresh')}; {_latency(bound, 'get')}",
                "",
                "",
                "",
                "",
            ),
            (
                "(a) DPoP-bound: errors",
                str(bound["errors"]),
                "",
                "",
                "0",
                str(bound["errors"] == 0),
            ),
            (
                "(a) DPoP-bound: server CPU per request (ms)",
                f"{bound['server_cpu_ms_per_request']:.2f}",
                "",
                f"+{bound['server_cpu_ms_per_request'] - bearer['server_cpu_ms_per_request']:.2f}"
                " over bearer",
                "",
                "",
            ),
            (
                "(a) DPoP-bound: client signs a proof (us), share of client CPU",
                f"{bound['signing_us_per_proof']:.0f}, {bound['signing_share_of_clients']:.0%}",
                "",
                "",
                "",
                "",
            ),
        ]
    # Who else used the machine: the clients, and everything this run did not start.
    for label, key in (
        ("load generator CPU (cores)", "client_cores"),
        ("others' CPU (cores)", "others_cores"),
    ):
        lines.append(
            (
                f"{label}, by scenario (a) / (b)" + (" / DPoP" if "mixed_dpop" in load else ""),
                " / ".join(
                    f"{load[s]['refreshauth'][key]:.2f}"
                    for s in ("mixed", "refresh", "mixed_dpop")
                    if s in load
                ),
                f"{mixed['simplejwt'][key]:.2f} / {chained['simplejwt'][key]:.2f}",
                "",
                "",
                "",
            )
        )
    return lines


if __name__ == "__main__":
    if sys.argv[1] == "client":
        client_main()
    elif sys.argv[1] == "prepare":
        prepare_main()
    else:
        raise SystemExit(f"unknown command {sys.argv[1]!r}")
