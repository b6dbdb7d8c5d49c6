"""Run the tests of a test project of its own (its own settings, apps and database) in a
separate pytest process, so that the main suite's settings stay untouched."""

from __future__ import annotations

import os
import subprocess
import sys

from .server import ROOT


def run_project_tests(settings_module: str, test_file: str) -> str:
    """Run ``test_file`` under ``settings_module``; return pytest's output, asserting that
    every test passed."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            test_file,
            "--ds",
            settings_module,
            "-p",
            "no:cacheprovider",
            "-q",
            "--no-header",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    assert " passed" in output and " failed" not in output, output[-8000:]
    return output
