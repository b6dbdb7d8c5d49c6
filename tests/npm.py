"""The npm packages of the browser client's tests (tests/js/package.json), installed by the
tests themselves with ``npm ci`` from the committed lockfile, never by hand."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

JS_DIR = Path(__file__).resolve().parent / "js"
NODE = shutil.which("node")
NPM = shutil.which("npm")


def install() -> Path:
    """``npm ci`` in tests/js unless node_modules already matches the lockfile; returns
    the node_modules directory."""
    modules = JS_DIR / "node_modules"
    lock = JS_DIR / "package-lock.json"
    installed = modules / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return modules
    assert NPM, "npm is needed to install tests/js/package.json"
    result = subprocess.run(
        [NPM, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"npm ci failed:\n{result.stdout}\n{result.stderr}"
    return modules
