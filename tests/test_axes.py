"""refreshauth's login/ under the real django-axes: the tests in
tests/axes_project/lockouts.py, run in a process with that project's settings."""

from __future__ import annotations

import pytest

from .projects import run_project_tests

pytest.importorskip("axes")


def test_axes_counts_and_locks_out_refreshauths_login() -> None:
    output = run_project_tests("tests.axes_project.settings", "tests/axes_project/lockouts.py")
    assert "skipped" not in output, output
