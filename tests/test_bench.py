"""The benchmark's report says whether each target is met, from the figures measured;
the load scenarios run and produce a well-formed report (a smoke run of a second or two,
which measures nothing)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from bench import load
from bench.profile import summarize
from bench.run import report


def scenario(library: str, rps: float, refresh_p99: float, errors: int = 0) -> dict[str, Any]:
    return {
        "library": library,
        "requests_per_s": rps,
        "refreshes_per_s": rps,
        "errors": errors,
        "refresh_p50_ms": refresh_p99 / 3,
        "refresh_p99_ms": refresh_p99,
        "get_p50_ms": 5.0,
        "get_p99_ms": 20.0,
        "server_cpu_ms_per_request": 1000 / rps,
        "signing_us_per_proof": 80.0,
        "signing_share_of_clients": 0.3,
        "client_cores": 0.1,
        "others_cores": 0.05,
    }


FIGURES: dict[str, Any] = {
    "authentication": {
        "refreshauth_authenticate_us": 70.0,
        "simplejwt_authenticate_us": 280.0,
        "refreshauth_verify_us": 17.0,
        "jwt_decode_us": 33.0,
        "hmac_sha256_us": 2.0,
    },
    "requests": {
        "refreshauth_refresh_queries": 2,
        "simplejwt_refresh_queries": 13,
        "refreshauth_refresh_per_s": 1100.0,
        "simplejwt_refresh_per_s": 330.0,
        "refreshauth_login_queries": 3,
        "simplejwt_login_queries": 3,
        "refreshauth_login_per_s": 600.0,
        "simplejwt_login_per_s": 600.0,
    },
    "cleanup": {
        "sessions": 10,
        "rotations": 20,
        "rows_before": {"refreshauth": 10, "simplejwt": 410},
        "rows_after": {"refreshauth": 0, "simplejwt": 0},
        "refreshauth_cleanup": {"seconds": 0.01, "peak_rss_mb": 80.0},
        "simplejwt_cleanup": {"seconds": 0.2, "peak_rss_mb": 90.0},
    },
    "million": {
        "rows": 1000,
        "seconds": 1.0,
        "peak_rss_mb": 80.0,
        "rows_per_s": 1000.0,
        "left": 0,
    },
    "concurrency": {"refreshauth": [1, 1], "simplejwt": [3, 1]},
    "dpop": {
        "refreshauth_dpop_authenticate_us": 250.0,
        "dpop_verify_us": 150.0,
        "dpop_sign_us": 80.0,
        "refreshauth_dpop_refresh_per_s": 800.0,
        "refreshauth_dpop_refresh_queries": 2,
    },
    "load": {
        "mixed": {
            "refreshauth": scenario("refreshauth", 600.0, 40.0),
            "simplejwt": scenario("simplejwt", 380.0, 100.0),
        },
        "refresh": {
            "refreshauth": scenario("refreshauth", 400.0, 90.0),
            "simplejwt": scenario("simplejwt", 120.0, 400.0),
        },
        "mixed_dpop": {"refreshauth": scenario("refreshauth", 500.0, 50.0)},
    },
}


def met(figures: dict[str, Any]) -> dict[str, str]:
    return {line[0]: line[5] for line in report(figures) if line[5]}


def test_all_targets_met() -> None:
    assert set(met(FIGURES).values()) == {"True"}


@pytest.mark.parametrize(
    "section,key,value,figure",
    [
        (
            "authentication",
            "refreshauth_authenticate_us",
            200.0,
            "authenticate() of a valid token (us)",
        ),
        ("authentication", "refreshauth_verify_us", 40.0, "token verification alone (us)"),
        ("requests", "refreshauth_refresh_queries", 3, "SQL statements per refresh"),
        ("requests", "refreshauth_refresh_per_s", 900.0, "refreshes per second (sequential)"),
        ("concurrency", "refreshauth", [1, 2], "winners per round, threads on one token"),
    ],
)
def test_a_missed_target_is_reported(section: str, key: str, value: Any, figure: str) -> None:
    figures = copy.deepcopy(FIGURES)
    figures[section][key] = value
    assert met(figures)[figure] == "False"


@pytest.mark.parametrize(
    "scenario_key,key,value,figure",
    [
        ("mixed", "requests_per_s", 560.0, "(a) mixed load: requests per second"),
        ("mixed", "refresh_p99_ms", 51.0, "(a) mixed load: refresh p50 / p99 (ms)"),
        ("mixed", "errors", 1, "(a) mixed load: errors"),
        ("refresh", "refreshes_per_s", 350.0, "(b) chained refreshes: refreshes per second"),
        ("refresh", "errors", 1, "(b) chained refreshes: errors"),
    ],
)
def test_a_missed_load_target_is_reported(
    scenario_key: str, key: str, value: Any, figure: str
) -> None:
    figures = copy.deepcopy(FIGURES)
    figures["load"][scenario_key]["refreshauth"][key] = value
    assert met(figures)[figure] == "False"


def test_without_load_figures_the_report_has_no_load_lines() -> None:
    figures = copy.deepcopy(FIGURES)
    del figures["load"], figures["dpop"]
    assert not [line for line in report(figures) if "load" in line[0] or "DPoP" in line[0]]


def test_the_profile_summary_counts_each_sample_once(tmp_path: Path) -> None:
    raw = tmp_path / "profile.raw"
    raw.write_text(
        "handle (gunicorn/workers/gthread.py:1);post (refreshauth/views.py:2);"
        "execute (psycopg/cursor.py:3) 3\n"
        "handle (gunicorn/workers/gthread.py:1);authenticate (refreshauth/authentication.py:4)"
        ";AccessTokenAuthentication.authenticate (refreshauth/authentication.py:5);"
        "loads (json/__init__.py:6) 1\n"
    )
    summary = summarize(raw)
    assert "4 samples" in summary
    assert "75.0%  PostgreSQL client (psycopg)" in summary
    assert "25.0%  refreshauth's own code" in summary
    assert "75.0%  refresh" in summary and "25.0%  GET /api/me/" in summary


@pytest.mark.server
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql")),
    reason="the load scenarios run on PostgreSQL",
)
def test_the_load_scenarios_run_and_report(tmp_path: Path) -> None:
    options = load.Options(
        database_url=os.environ["DATABASE_URL"],
        redis_url=os.environ.get("REDIS_URL", ""),
        clients=4,
        processes=2,
        workers=1,
        threads=2,
        warmup=0.3,
        duration=1.5,
        tmp=tmp_path,
    )
    figures = load.run(options, log=lambda line: None)
    for key, libraries in (
        ("mixed", {"refreshauth", "simplejwt"}),
        ("refresh", {"refreshauth", "simplejwt"}),
        ("mixed_dpop", {"refreshauth"}),
    ):
        assert set(figures[key]) == libraries
        for found in figures[key].values():
            assert found["requests"] > 0
            assert found["errors"] == sum(found["error_kinds"].values())
    assert figures["mixed"]["refreshauth"]["counts"]["get"] > 0
    assert figures["mixed_dpop"]["refreshauth"]["signing_us_per_proof"] > 0
    lines = load.report(figures)
    assert all(len(line) == 6 and all(isinstance(v, str) for v in line) for line in lines)
    assert {line[5] for line in lines if line[4]} <= {"True", "False"}


def test_million_target_needs_every_row_gone() -> None:
    figures = copy.deepcopy(FIGURES)
    figures["million"]["left"] = 1
    assert met(figures)["clear 1,000 expired sessions: s / peak MB / rows/s"] == "False"
