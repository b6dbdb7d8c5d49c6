"""refreshauth.contrib.allauth with the real django-allauth: the tests in
tests/allauth_project/flows.py, run in a process with that project's settings."""

from __future__ import annotations

import pytest

from .projects import run_project_tests

pytest.importorskip("allauth.headless")


def test_allauth_headless_app_flows() -> None:
    output = run_project_tests("tests.allauth_project.settings", "tests/allauth_project/flows.py")
    assert "skipped" not in output, output
