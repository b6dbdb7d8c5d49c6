"""The README's install section as a newcomer meets it: a wheel built from the checkout,
a fresh virtualenv that installs it and its dependencies from the package index, a
fresh ``django-admin startproject``, the README's snippets applied literally, then a
login, ``/api/me/`` and a refresh over HTTP against ``runserver``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest

from .server import ROOT, free_port

pytestmark = pytest.mark.install

SNIPPET = re.compile(r"<!-- install: (\S+) -->\n```\w+\n(.*?)```", re.DOTALL)
# What a checkout holds besides the sources: nothing a build reads.
NOT_SOURCES = shutil.ignore_patterns(
    ".venv", ".git", ".nox", "node_modules", "build", "dist", "*.egg-info", ".*cache",
    "__pycache__", "*.sqlite3*", ".cache", "bench", "tests",
)  # fmt: skip


def readme_snippets() -> dict[str, str]:
    """The fenced blocks of README.md marked ``<!-- install: NAME -->``, by NAME."""
    found = dict(SNIPPET.findall((ROOT / "README.md").read_text()))
    assert {"sh", "mysite/settings.py", "mysite/views.py", "mysite/urls.py"} <= set(found)
    return found


def run(command: list[str] | str, cwd: Path, env: dict[str, str], **kwargs: Any) -> str:
    result = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        shell=isinstance(command, str),
        **kwargs,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
    return result.stdout


def call(base: str, path: str, data: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"} if data is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(base + path, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def wait_for(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"runserver exited: {process.communicate()[0][-4000:]}")
        try:
            urllib.request.urlopen(base + "/api/me/", timeout=2)
        except urllib.error.HTTPError:
            return  # 401: it answers
        except OSError:
            time.sleep(0.2)
            continue
        return
    raise AssertionError("runserver did not answer within 60 s")


def test_readme_install_section_works_in_a_fresh_project(tmp_path: Path) -> None:
    snippets = readme_snippets()
    # A checkout named as the README names it, beside the user's project.
    shutil.copytree(ROOT, tmp_path / "refreshauth", ignore=NOT_SOURCES)
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path, dict(os.environ))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV", "DATABASE_URL")
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"

    run(snippets["sh"], tmp_path, env)  # pip wheel ...; pip install dist/refreshauth-*.whl
    (wheel,) = (tmp_path / "dist").glob("refreshauth-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    for name in (
        "py.typed",
        "static/refreshauth/refreshauth.js",
        "static/refreshauth/refreshauth.d.ts",
        "static/refreshauth/admin.css",
        "migrations/0002_device_name_dpop_jkt.py",
    ):
        assert f"refreshauth/{name}" in shipped, name  # fmt: skip

    run(["django-admin", "startproject", "mysite"], tmp_path, env)
    project = tmp_path / "mysite"
    for name in ("mysite/settings.py", "mysite/urls.py"):
        with (project / name).open("a") as file:
            file.write("\n" + snippets[name])
    (project / "mysite/views.py").write_text(snippets["mysite/views.py"])

    python = str(venv / "bin" / "python")
    run([python, "manage.py", "check"], project, env)
    run([python, "manage.py", "migrate", "--noinput", "-v0"], project, env)
    create = (
        "from django.contrib.auth.models import User; "
        "User.objects.create_user('ann', password='a long pass phrase 4')"
    )
    run([python, "manage.py", "shell", "-c", create], project, env)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(base, server)
        status, login = call(
            base, "/api/auth/login/", {"username": "ann", "password": "a long pass phrase 4"}
        )
        assert status == 200, login
        status, me = call(base, "/api/me/", token=login["access_token"])
        assert (status, me) == (200, {"id": 1, "username": "ann"})
        status, refreshed = call(
            base, "/api/auth/refresh/", {"refresh_token": login["refresh_token"]}
        )
        assert status == 200, refreshed
        assert refreshed["refresh_token"] != login["refresh_token"]
        status, again = call(base, "/api/me/", token=refreshed["access_token"])
        assert status == 200, again
        status, reused = call(
            base, "/api/auth/refresh/", {"refresh_token": login["refresh_token"]}
        )
        assert (status, reused["code"]) == (401, "token_reused")
        status, anonymous = call(base, "/api/me/")
        assert (status, anonymous["code"]) == (401, "not_authenticated")
    finally:
        server.terminate()
        server.wait(timeout=30)
