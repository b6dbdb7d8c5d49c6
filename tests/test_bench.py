"""The benchmark's report says whether each target is met, from the figures measured."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bench.run import report

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


def test_million_target_needs_every_row_gone() -> None:
    figures = copy.deepcopy(FIGURES)
    figures["million"]["left"] = 1
    assert met(figures)["clear 1,000 expired sessions: s / peak MB / rows/s"] == "False"
