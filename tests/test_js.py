"""The browser client's unit tests (``node --test tests/js/``) and the type check of its
declarations (``tsc`` on tests/js/typecheck.ts), run from ``make test``."""

from __future__ import annotations

import subprocess

import pytest

from . import npm

pytestmark = pytest.mark.skipif(
    npm.NODE is None or npm.NPM is None, reason="needs Node.js 20+ and npm"
)


@pytest.fixture(scope="module")
def node_modules() -> None:
    npm.install()


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=npm.JS_DIR.parent.parent, capture_output=True, text=True, timeout=600
    )


def test_node_unit_tests(node_modules: None) -> None:
    assert npm.NODE
    result = run(npm.NODE, "--test", "tests/js/")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout


def test_declarations_type_check(node_modules: None) -> None:
    result = run(str(npm.JS_DIR / "node_modules" / ".bin" / "tsc"), "-p", "tests/js/tsconfig.json")
    assert result.returncode == 0, result.stdout + result.stderr
