"""refreshauth beside djangorestframework-simplejwt, on the same Django, database and
password hasher: ``make bench`` (``make bench QUICK=1`` for a run of a few minutes).

Prints a table with a ratio per figure and whether each target is met, and writes the
figures to bench/results/latest.json. SQLite unless DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(tmp: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def per_call_us(fn: Callable[[], Any], number: int, repeats: int) -> float:
    """Median over ``repeats`` of the mean time of one call, in microseconds."""
    for _ in range(min(number, 200)):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter_ns() - start) / number / 1000)
    return statistics.median(samples)


def bench_authentication(user: Any, number: int, repeats: int) -> dict[str, float]:
    import jwt
    from django.test import RequestFactory
    from rest_framework.request import Request
    from rest_framework_simplejwt.authentication import JWTAuthentication
    from rest_framework_simplejwt.tokens import RefreshToken as SimpleRefresh

    from refreshauth import sessions, tokens
    from refreshauth.authentication import AccessTokenAuthentication

    ours = sessions.open_session(user).access_token
    theirs = str(SimpleRefresh.for_user(user).access_token)
    rf = RequestFactory()
    our_request = Request(rf.get("/", HTTP_AUTHORIZATION=f"Bearer {ours}"))
    their_request = Request(rf.get("/", HTTP_AUTHORIZATION=f"Bearer {theirs}"))
    our_auth, their_auth = AccessTokenAuthentication(), JWTAuthentication()
    assert our_auth.authenticate(our_request) is not None
    assert their_auth.authenticate(their_request) is not None
    key = tokens.access_keys().current.signing
    signing_input, signature = ours.rsplit(".", 1)
    raw_signature = jwt.utils.base64url_decode(signature)

    def hmac_floor() -> None:
        mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
        hmac.compare_digest(mac, raw_signature)

    return {
        "refreshauth_authenticate_us": per_call_us(
            lambda: our_auth.authenticate(our_request), number, repeats
        ),
        "simplejwt_authenticate_us": per_call_us(
            lambda: their_auth.authenticate(their_request), number, repeats
        ),
        "refreshauth_verify_us": per_call_us(lambda: tokens.decode_access(ours), number, repeats),
        "jwt_decode_us": per_call_us(
            lambda: jwt.decode(ours, key, algorithms=["HS256"]), number, repeats
        ),
        "hmac_sha256_us": per_call_us(hmac_floor, number, repeats),
    }


@contextmanager
def dpop_allowed() -> Iterator[None]:
    from django.conf import settings
    from django.test import override_settings

    with override_settings(REFRESHAUTH={**settings.REFRESHAUTH, "DPOP": "allowed"}):
        yield


def bench_dpop_authentication(user: Any, number: int, repeats: int) -> dict[str, float]:
    """authenticate() of a DPoP-bound access token with a fresh proof each call, the
    proof's verification alone, and what a client spends signing one. The proofs are
    signed before the clock starts (each is accepted once), so that none of the
    client's cost is counted as the server's."""
    from django.test import Client, RequestFactory
    from rest_framework.request import Request

    from bench.load import Key
    from refreshauth.authentication import AccessTokenAuthentication
    from refreshauth.dpop import verify_proof

    key = Key()
    url = "http://testserver/api/me/"
    with dpop_allowed():
        login = Client().post(
            "/api/auth/login/",
            {"username": user.username, "password": "bench-password"},
            content_type="application/json",
            HTTP_DPOP=key.proof("POST", "http://testserver/api/auth/login/"),
        )
        assert login.status_code == 200 and login.json()["token_type"] == "DPoP", login.content
        token = login.json()["access_token"]
        calls = 1 + min(number, 200) + number * repeats
        proofs = iter([key.proof("GET", url, token) for _ in range(calls)])
        request = Request(RequestFactory().get("/api/me/", HTTP_AUTHORIZATION=f"DPoP {token}"))
        meta = request._request.META
        auth = AccessTokenAuthentication()
        meta["HTTP_DPOP"] = next(proofs)
        assert auth.authenticate(request) is not None

        def authenticate() -> None:
            meta["HTTP_DPOP"] = next(proofs)
            auth.authenticate(request)

        # Verification is pure: one proof verified over and over costs what fresh ones do.
        proof = key.proof("GET", url, token)

        def verify() -> None:
            verify_proof(
                proof,
                method="GET",
                url=url,
                algorithms=["ES256"],
                max_age=timedelta(minutes=5),
                leeway=timedelta(0),
                access_token=token,
            )

        return {
            "refreshauth_dpop_authenticate_us": per_call_us(authenticate, number, repeats),
            "dpop_verify_us": per_call_us(verify, number, repeats),
            "dpop_sign_us": 1e6 * key.signing_seconds / key.signed,
        }


def count_queries(fn: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    # Statements that read or write rows; BEGIN, COMMIT and savepoints are not counted.
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
    return sum(
        1 for q in captured.captured_queries if not q["sql"].lstrip().upper().startswith(control)
    )


class Library:
    """One library's login and refresh through its own HTTP views."""

    def __init__(self, name: str, login_url: str, refresh_url: str, field: str) -> None:
        from django.test import Client

        self.name, self.login_url, self.refresh_url, self.field = (
            name,
            login_url,
            refresh_url,
            field,
        )
        self.client = Client()

    def login(self, username: str, password: str) -> str:
        response = self.client.post(
            self.login_url,
            {"username": username, "password": password},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        body = response.json()
        return str(body["refresh_token"] if self.field == "refresh_token" else body["refresh"])

    def refresh(self, token: str) -> str:
        response = self.client.post(
            self.refresh_url, {self.field: token}, content_type="application/json"
        )
        assert response.status_code == 200, (self.name, response.content)
        body = response.json()
        return str(body["refresh_token"] if self.field == "refresh_token" else body["refresh"])


def libraries() -> list[Library]:
    return [
        Library("refreshauth", "/api/auth/login/", "/api/auth/refresh/", "refresh_token"),
        Library("simplejwt", "/simplejwt/token/", "/simplejwt/token/refresh/", "refresh"),
    ]


def bench_requests(users: list[Any], refreshes: int) -> dict[str, float]:
    results: dict[str, float] = {}
    for lib in libraries():
        # Enough sessions that none is refreshed past REFRESH_RATE (30 a minute).
        pool = max(len(users), refreshes // 20)
        tokens = [lib.login(users[i % len(users)].username, "bench-password") for i in range(pool)]
        results[f"{lib.name}_refresh_queries"] = count_queries(
            lambda lib=lib, tokens=tokens: tokens.__setitem__(0, lib.refresh(tokens[0]))
        )
        results[f"{lib.name}_login_queries"] = count_queries(
            lambda lib=lib: lib.login(users[0].username, "bench-password")
        )
        start = time.perf_counter()
        for i in range(refreshes):
            j = i % len(tokens)
            tokens[j] = lib.refresh(tokens[j])
        results[f"{lib.name}_refresh_per_s"] = refreshes / (time.perf_counter() - start)
        logins = max(50, refreshes // 4)
        start = time.perf_counter()
        for i in range(logins):
            lib.login(users[i % len(users)].username, "bench-password")
        results[f"{lib.name}_login_per_s"] = logins / (time.perf_counter() - start)
    return results


def bench_dpop_refresh(users: list[Any], refreshes: int) -> dict[str, float]:
    """refreshauth's refresh of DPoP-bound sessions through its HTTP view, as
    ``bench_requests`` measures bearer ones, with proofs signed before the clock starts."""
    from django.test import Client

    from bench.load import Key

    key, client = Key(), Client()
    base = "http://testserver/api/auth/"
    proofs = iter([key.proof("POST", base + "refresh/") for _ in range(refreshes + 1)])

    def login(username: str) -> str:
        response = client.post(
            "/api/auth/login/",
            {"username": username, "password": "bench-password"},
            content_type="application/json",
            HTTP_DPOP=key.proof("POST", base + "login/"),
        )
        assert response.status_code == 200 and response.json()["token_type"] == "DPoP"
        return str(response.json()["refresh_token"])

    def refresh(token: str) -> str:
        response = client.post(
            "/api/auth/refresh/",
            {"refresh_token": token},
            content_type="application/json",
            HTTP_DPOP=next(proofs),
        )
        assert response.status_code == 200, response.content
        return str(response.json()["refresh_token"])

    with dpop_allowed():
        tokens = [
            login(users[i % len(users)].username) for i in range(max(len(users), refreshes // 20))
        ]
        queries = count_queries(lambda: tokens.__setitem__(0, refresh(tokens[0])))
        start = time.perf_counter()
        for i in range(refreshes):
            j = i % len(tokens)
            tokens[j] = refresh(tokens[j])
        elapsed = time.perf_counter() - start
    return {
        "refreshauth_dpop_refresh_per_s": refreshes / elapsed,
        "refreshauth_dpop_refresh_queries": queries,
    }


def run_command(at: datetime, *command: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.command", at.isoformat(), *command],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(result.stderr.strip().splitlines()[-1])
    figures["output"] = result.stdout.strip()
    return figures


def table_counts() -> dict[str, int]:
    from rest_framework_simplejwt.token_blacklist.models import (
        BlacklistedToken,
        OutstandingToken,
    )

    from refreshauth.models import RefreshToken

    return {
        "refreshauth": RefreshToken.objects.count(),
        "simplejwt": OutstandingToken.objects.count() + BlacklistedToken.objects.count(),
    }


def bench_cleanup(users: list[Any], sessions_count: int, rotations: int) -> dict[str, Any]:
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from refreshauth.models import RefreshToken

    RefreshToken.objects.all().delete()
    OutstandingToken.objects.all().delete()
    for lib in libraries():
        for s in range(sessions_count):
            token = lib.login(users[s % len(users)].username, "bench-password")
            for _ in range(rotations):
                token = lib.refresh(token)
    before = table_counts()
    later = datetime.now(timezone.utc) + timedelta(days=8)
    theirs = run_command(later, "flushexpiredtokens")
    ours = run_command(later, "clearrefreshtokens", "--batch-size", "1000")
    after = table_counts()
    return {
        "sessions": sessions_count,
        "rotations": rotations,
        "rows_before": before,
        "rows_after": after,
        "refreshauth_cleanup": ours,
        "simplejwt_cleanup": theirs,
    }


def bulk_insert_expired(rows: int, user_id: int) -> None:
    from django.db import connection, models

    from refreshauth.models import RefreshToken

    table = RefreshToken._meta.db_table
    given = [
        "id",
        "user_id",
        "jti_hash",
        "previous_jti_hash",
        "password_fingerprint",
        "created_at",
        "last_used_at",
        "expires_at",
    ]
    # Every other text column that must not be null is left empty.
    empty = [
        f.column
        for f in RefreshToken._meta.concrete_fields
        if isinstance(f, (models.CharField, models.TextField))
        and not f.null
        and f.column not in given
    ]
    columns = ", ".join([*given, *empty])
    blanks = "".join(", ''" for _ in empty)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT gen_random_uuid(), %s, "
                "md5(g::text) || md5(g::text), '', '', now() - interval '9 days', "
                f"now() - interval '8 days', now() - interval '1 day'{blanks} "
                "FROM generate_series(1, %s) AS g",
                [user_id, rows],
            )
        else:
            past = "2020-01-01 00:00:00"
            cursor.execute(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %s) "
                f"INSERT INTO {table} ({columns}) "
                "SELECT lower(hex(randomblob(16))), %s, lower(hex(randomblob(32))), '', '', "
                f"'{past}', '{past}', '{past}'{blanks} FROM c",
                [rows, user_id],
            )


def bench_million(user: Any, rows: int) -> dict[str, Any]:
    from refreshauth.models import RefreshToken

    RefreshToken.objects.all().delete()
    start = time.perf_counter()
    bulk_insert_expired(rows, user.pk)
    inserted = time.perf_counter() - start
    assert RefreshToken.objects.count() == rows
    figures = run_command(datetime.now(timezone.utc), "clearrefreshtokens", "--batch-size", "5000")
    figures["rows"] = rows
    figures["insert_seconds"] = inserted
    figures["rows_per_s"] = rows / figures["seconds"]
    figures["left"] = RefreshToken.objects.count()
    return figures


def bench_concurrency(tmp: Path, rounds: int, threads: int) -> dict[str, list[int]]:
    from tests.server import Server, gunicorn

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "BENCH_SHARED_CACHE": "1",
        "CACHE_DIR": str(tmp / "cache"),
        "PYTHONPATH": str(ROOT),
    }
    results: dict[str, list[int]] = {"refreshauth": [], "simplejwt": []}
    with gunicorn(env, workers=3, threads=4) as server:
        for name, login_url, refresh_url, field in [
            ("refreshauth", "/api/auth/login/", "/api/auth/refresh/", "refresh_token"),
            ("simplejwt", "/simplejwt/token/", "/simplejwt/token/refresh/", "refresh"),
        ]:
            for _ in range(rounds):
                body = server.post(
                    login_url, {"username": "bench0", "password": "bench-password"}
                ).json()
                token = body["refresh_token" if field == "refresh_token" else "refresh"]
                barrier = threading.Barrier(threads)

                def one(
                    _: int,
                    server: Server = server,
                    barrier: Any = barrier,
                    url: str = refresh_url,
                    field: str = field,
                    token: str = token,
                ) -> int:
                    barrier.wait()
                    return server.post(url, {field: token}).status

                with ThreadPoolExecutor(max_workers=threads) as pool:
                    statuses = Counter(pool.map(one, range(threads)))
                results[name].append(statuses[200])
    return results


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def report(figures: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    lines = in_process_report(figures) if "authentication" in figures else []
    if "load" in figures:
        from bench.load import report as load_report

        lines.extend(load_report(figures["load"]))
    return lines


def in_process_report(figures: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    a = figures["authentication"]
    r = figures["requests"]
    c = figures["cleanup"]
    m = figures["million"]
    rows_ours, rows_theirs = c["rows_before"]["refreshauth"], c["rows_before"]["simplejwt"]
    t_ours, t_theirs = c["refreshauth_cleanup"]["seconds"], c["simplejwt_cleanup"]["seconds"]
    lines = [
        (
            "authenticate() of a valid token (us)",
            f"{a['refreshauth_authenticate_us']:.1f}",
            f"{a['simplejwt_authenticate_us']:.1f}",
            f"{ratio(a['simplejwt_authenticate_us'], a['refreshauth_authenticate_us']):.2f}x"
            " faster",
            ">= 1.5x faster",
            str(a["simplejwt_authenticate_us"] >= 1.5 * a["refreshauth_authenticate_us"]),
        ),
        (
            "token verification alone (us)",
            f"{a['refreshauth_verify_us']:.1f}",
            f"jwt.decode {a['jwt_decode_us']:.1f}, HMAC {a['hmac_sha256_us']:.1f}",
            f"{ratio(a['refreshauth_verify_us'], a['jwt_decode_us']):.2f}x jwt.decode",
            "<= 1.1x jwt.decode",
            str(a["refreshauth_verify_us"] <= 1.1 * a["jwt_decode_us"]),
        ),
        (
            "SQL statements per refresh",
            str(r["refreshauth_refresh_queries"]),
            str(r["simplejwt_refresh_queries"]),
            f"{ratio(r['simplejwt_refresh_queries'], r['refreshauth_refresh_queries']):.1f}x"
            " fewer",
            "exactly 2",
            str(r["refreshauth_refresh_queries"] == 2),
        ),
        (
            "refreshes per second (sequential)",
            f"{r['refreshauth_refresh_per_s']:.0f}",
            f"{r['simplejwt_refresh_per_s']:.0f}",
            f"{ratio(r['refreshauth_refresh_per_s'], r['simplejwt_refresh_per_s']):.2f}x",
            ">= 3x",
            str(r["refreshauth_refresh_per_s"] >= 3 * r["simplejwt_refresh_per_s"]),
        ),
        (
            "SQL statements per login",
            str(r["refreshauth_login_queries"]),
            str(r["simplejwt_login_queries"]),
            "",
            "",
            "",
        ),
        (
            "logins per second (sequential)",
            f"{r['refreshauth_login_per_s']:.0f}",
            f"{r['simplejwt_login_per_s']:.0f}",
            f"{ratio(r['refreshauth_login_per_s'], r['simplejwt_login_per_s']):.2f}x",
            "",
            "",
        ),
        (
            f"rows after {c['sessions']} sessions x {c['rotations']} refreshes",
            str(rows_ours),
            str(rows_theirs),
            f"{ratio(rows_theirs, rows_ours):.1f}x fewer",
            ">= 20x fewer",
            str(rows_theirs >= 20 * rows_ours),
        ),
        (
            "cleanup of them: wall time (s)",
            f"{t_ours:.2f}",
            f"{t_theirs:.2f}",
            f"{ratio(t_theirs, t_ours):.1f}x faster",
            ">= 10x faster",
            str(t_theirs >= 10 * t_ours),
        ),
        (
            "cleanup of them: peak RSS (MB)",
            f"{c['refreshauth_cleanup']['peak_rss_mb']:.0f}",
            f"{c['simplejwt_cleanup']['peak_rss_mb']:.0f}",
            "",
            "",
            "",
        ),
        (
            f"clear {m['rows']:,} expired sessions: s / peak MB / rows/s",
            f"{m['seconds']:.1f} / {m['peak_rss_mb']:.0f} / {m['rows_per_s']:,.0f}",
            "",
            "",
            "< 60 s, < 100 MB",
            str(m["seconds"] < 60 and m["peak_rss_mb"] < 100 and m["left"] == 0),
        ),
    ]
    if "concurrency" in figures:
        k = figures["concurrency"]
        lines.append(
            (
                "winners per round, threads on one token",
                str(k["refreshauth"]),
                str(k["simplejwt"]),
                "",
                "at most 1",
                str(max(k["refreshauth"]) <= 1),
            )
        )
    if "dpop" in figures:
        lines.extend(dpop_report(figures["dpop"], a, r))
    return lines


def dpop_report(
    d: dict[str, float], a: dict[str, float], r: dict[str, float]
) -> list[tuple[str, str, str, str, str, str]]:
    """refreshauth's DPoP-bound requests beside its bearer ones (simplejwt has no DPoP)."""
    bearer_us, bound_us = a["refreshauth_authenticate_us"], d["refreshauth_dpop_authenticate_us"]
    bearer_rps, bound_rps = r["refreshauth_refresh_per_s"], d["refreshauth_dpop_refresh_per_s"]
    return [
        (
            "authenticate() of a DPoP-bound token and its proof (us)",
            f"{bound_us:.1f}",
            "no DPoP",
            f"+{bound_us - bearer_us:.1f} us over bearer",
            "",
            "",
        ),
        (
            "DPoP proof (ES256): server verifies / client signs (us)",
            f"{d['dpop_verify_us']:.1f} / {d['dpop_sign_us']:.1f}",
            "",
            "",
            "",
            "",
        ),
        (
            "DPoP-bound refreshes per second (sequential)",
            f"{bound_rps:.0f}",
            "no DPoP",
            f"{ratio(bound_rps, bearer_rps):.2f}x bearer",
            "",
            "",
        ),
        (
            "SQL statements per DPoP-bound refresh",
            str(d["refreshauth_dpop_refresh_queries"]),
            "",
            "",
            "",
            "",
        ),
    ]


def print_table(lines: list[tuple[str, ...]], header: str) -> None:
    titles = ("figure", "refreshauth", "simplejwt", "ratio", "target", "met")
    widths = [max(len(t), *(len(line[i]) for line in lines)) for i, t in enumerate(titles)]
    print(header)
    print(" | ".join(t.ljust(w) for t, w in zip(titles, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for line in lines:
        print(" | ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)))


def revision() -> str:
    """The commit measured, and whether refreshauth/ differed from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "refreshauth"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("BENCH_REVISION", "unknown")
    return commit + (" with uncommitted changes in refreshauth/" if changed else "")


def on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))


def bench_load(tmp: Path, stack: ExitStack, args: argparse.Namespace) -> dict[str, Any]:
    """The load scenarios (bench/load.py) on the PostgreSQL server of DATABASE_URL, with
    Redis for refreshauth's caches: REDIS_URL's, else one of its own when redis-server is
    installed, else the example's file-based caches."""
    from bench import load, services

    redis_url, watch = os.environ.get("REDIS_URL", ""), dict(args.watch_pids)
    if not redis_url and shutil.which("redis-server"):
        redis = stack.enter_context(services.redis(tmp))
        redis_url, watch["redis"] = redis.url, redis.pid
    options = load.Options(
        database_url=os.environ["DATABASE_URL"],
        redis_url=redis_url,
        warmup=args.load_warmup,
        duration=args.load_seconds,
        tmp=tmp,
        watch_pids=watch,
        profile=args.profile,
    )
    return load.run(options, log=lambda line: print(line, flush=True))


def in_process(figures: dict[str, Any], users: list[Any], tmp: Path, args: Any) -> None:
    """Everything but the load scenarios: one process, Django's test client."""
    quick = args.quick
    number, repeats = (2000, 5) if quick else (10000, 9)
    refreshes = 500 if quick else 3000
    print("authenticate() ...", flush=True)
    figures["authentication"] = bench_authentication(users[0], number, repeats)
    print("login and refresh ...", flush=True)
    figures["requests"] = bench_requests(users, refreshes=refreshes)
    print("DPoP-bound authenticate() and refresh ...", flush=True)
    figures["dpop"] = {
        **bench_dpop_authentication(users[0], number // 5, repeats),
        **bench_dpop_refresh(users, refreshes=refreshes),
    }
    print("cleanup after the same activity ...", flush=True)
    figures["cleanup"] = bench_cleanup(users, sessions_count=200 if quick else 2000, rotations=20)
    print("clearing expired sessions at scale ...", flush=True)
    figures["million"] = bench_million(users[0], rows=100_000 if quick else 1_000_000)
    if not args.no_concurrency:
        print("concurrent refreshes against gunicorn ...", flush=True)
        figures["concurrency"] = bench_concurrency(tmp, rounds=5 if quick else 20, threads=32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a run of a few minutes")
    parser.add_argument("--no-concurrency", action="store_true", help="skip the gunicorn race")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="run everything on a PostgreSQL server (and Redis) of its own, started here",
    )
    parser.add_argument("--no-load", action="store_true", help="skip the load scenarios")
    parser.add_argument(
        "--load-only", action="store_true", help="the load scenarios alone (for profiling)"
    )
    parser.add_argument("--load-seconds", type=float, help="each load scenario's measured time")
    parser.add_argument("--load-warmup", type=float, help="each load scenario's warm-up")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy records a worker in each load scenario"
    )
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "latest.json"))
    args = parser.parse_args()
    quick = args.quick
    if args.load_seconds is None:
        args.load_seconds = 8.0 if quick else 30.0
    if args.load_warmup is None:
        args.load_warmup = 2.0 if quick else 5.0
    args.watch_pids = {}
    # A terminated run unwinds too: the servers it started are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="refreshauth-bench-") as name, ExitStack() as stack:
        tmp = Path(name)
        if args.postgres:
            from bench import load, services

            postgres = stack.enter_context(services.postgres(tmp))
            load.create_database(postgres.url)
            os.environ["DATABASE_URL"] = postgres.url
            args.watch_pids["postgres"] = postgres.pid
        setup(tmp)
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.db import connection

        model = get_user_model()
        users = []
        for i in range(20):
            user, _ = model.objects.get_or_create(username=f"bench{i}")
            user.set_password("bench-password")
            user.save()
            users.append(user)

        figures: dict[str, Any] = {
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "database": connection.vendor,
                "django": __import__("django").get_version(),
                "quick": quick,
                "hasher": settings.PASSWORD_HASHERS[0].rsplit(".", 1)[-1],
                "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "load_average_before": load_before,
                "revision": revision(),
            }
        }
        if not args.load_only:
            in_process(figures, users, tmp, args)
        connection.close()
        skipped = ""
        if args.no_load:
            skipped = "load scenarios skipped (--no-load)"
        elif not on_postgres():
            skipped = (
                "load scenarios skipped: they need PostgreSQL. Run `make bench PG=1` (a "
                "throwaway PostgreSQL and Redis, started and stopped by the benchmark) or "
                "set DATABASE_URL=postgres://..."
            )
        else:
            print("load over HTTP against gunicorn ...", flush=True)
            figures["load"] = bench_load(tmp, stack, args)
        figures["machine"]["load_average_after"] = os.getloadavg()
        lines = report(figures)
        figures["table"] = lines
        output = Path(args.output)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(figures, indent=2, default=str))
        m = figures["machine"]
        header = (
            f"\nrefreshauth vs djangorestframework-simplejwt on {m['database']}, Django "
            f"{m['django']}, Python {m['python']}, {m['cpus']} CPUs, {m['hasher']}"
            f"{' (quick)' if quick else ''}; load average "
            f"{m['load_average_before'][0]:.2f} before, {m['load_average_after'][0]:.2f} after"
            f"; {m['started']}, {m['revision']}"
        )
        if "load" in figures:
            setup_ = figures["load"]["setup"]
            header += (
                f"\nload: {setup_['clients']} clients in {setup_['client_processes']} processes, "
                f"gunicorn {setup_['workers']} workers x {setup_['threads']} threads per "
                f"library, {setup_['seconds']:.0f} s each after {setup_['warmup_seconds']:.0f} s "
                f"of warm-up, refreshauth's caches in {setup_['cache']}"
            )
        print_table(lines, header)
        if skipped:
            print(f"\n{skipped}")
        print(f"\nfigures written to {output}")


if __name__ == "__main__":
    main()
