"""refreshauth with a custom user model, in a process of its own (AUTH_USER_MODEL cannot
change inside one)."""

from __future__ import annotations

import os
import subprocess
import sys

from .server import ROOT

SCRIPT = """
import django
django.setup()
from django.test.utils import setup_test_environment, get_runner
from django.conf import settings
setup_test_environment()
runner = get_runner(settings)(verbosity=0, interactive=False)
old = runner.setup_databases()
try:
    from tests.customuser.scenario import run
    run()
finally:
    runner.teardown_databases(old)
print("custom user scenario passed")
"""


def test_custom_user_model_end_to_end() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.customuser.settings"}
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = ""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "custom user scenario passed" in result.stdout
