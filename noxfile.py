"""The version matrix and the packaging check: ``nox -s django-5.2 django-6 package``;
``nox -s django-main`` runs the suite against Django's newest code this machine can reach
(the main branch when ``DJANGO_MAIN`` names an archive or checkout of it, else the newest
pre-release on PyPI), to see drift in the ORM and the admin early; CI reports it and
does not fail on it.

Interpreters are found on PATH, or among pyenv's versions on machines that have them.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
ROOT = Path(__file__).resolve().parent


def _runs(executable: str) -> bool:
    try:
        return subprocess.run([executable, "-c", "pass"], capture_output=True).returncode == 0  # noqa: S603
    except OSError:
        return False


def interpreter(*versions: str) -> str:
    """The first of ``versions`` that runs, from pyenv's versions or PATH, as a path
    (a pyenv shim for a version that is not selected does not run)."""
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    for version in versions:
        candidates = sorted(glob.glob(f"{pyenv}/versions/{version}.*/bin/python{version}"))
        candidates.reverse()
        found = shutil.which(f"python{version}")
        if found:
            candidates.append(found)
        for candidate in candidates:
            if _runs(candidate):
                return candidate
    return f"python{versions[0]}"


def install(session: nox.Session, django: str, *, pre: bool = False) -> None:
    session.install("--upgrade", "pip")
    session.install("-e", ".", "--group", "test", "--group", "bench", django)
    if pre:
        session.install("--pre", "--upgrade", django)


@nox.session(name="django-5.2", python=interpreter("3.11"))
def django_52(session: nox.Session) -> None:
    """The suite on Django 5.2 LTS."""
    install(session, "Django>=5.2,<5.3")
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", *session.posargs)


@nox.session(name="django-6", python=interpreter("3.13", "3.12"))
def django_6(session: nox.Session) -> None:
    """The suite on Django 6.x."""
    install(session, "Django>=6.0,<7")
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", *session.posargs)


@nox.session(name="django-main", python=interpreter("3.13", "3.12"))
def django_main(session: nox.Session) -> None:
    """The in-process suite on Django's newest code, the fast path on; allowed to fail."""
    main = os.environ.get("DJANGO_MAIN")
    install(session, main or "Django>=6.0", pre=main is None)
    session.run(
        "python", "-m", "pytest", "-p", "no:cacheprovider", "-m", "not server", *session.posargs
    )


@nox.session(python=interpreter("3.11"))
def package(session: nox.Session) -> None:
    """Build the sdist and wheel, check what they carry, and run the example project's
    check against the installed wheel."""
    session.install("--upgrade", "pip", "build")
    dist = Path(tempfile.mkdtemp(prefix="refreshauth-dist-"))
    session.run("python", "-m", "build", "--outdir", str(dist), silent=True)
    wheel = next(dist.glob("refreshauth-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "refreshauth/py.typed",
        "refreshauth/migrations/0001_initial.py",
        "refreshauth/management/commands/clearrefreshtokens.py",
    ):
        if required not in names:
            session.error(f"{wheel.name} lacks {required}")
    if any(name.startswith(("tests/", "example_project/", "bench/")) for name in names):
        session.error(f"{wheel.name} carries more than the refreshauth package")
    sdist = next(dist.glob("refreshauth-*.tar.gz"))
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for required in ("refreshauth/py.typed", "refreshauth/migrations/0001_initial.py", "LICENSE"):
        if required not in members:
            session.error(f"{sdist.name} lacks {required}")
    session.log(f"built {wheel.name} and {sdist.name}")

    # A fresh virtualenv with the wheel alone, and the example project outside the repo.
    site = Path(tempfile.mkdtemp(prefix="refreshauth-site-"))
    venv = site / "venv"
    session.run("python", "-m", "venv", str(venv))
    python = str(venv / "bin" / "python")
    session.run(python, "-m", "pip", "install", "--quiet", str(wheel), external=True)
    shutil.copytree(ROOT / "example_project", site / "example_project")
    shutil.copy(ROOT / "manage.py", site / "manage.py")
    env = {"DATABASE_URL": f"sqlite:///{site / 'db.sqlite3'}", "PYTHONPATH": str(site)}
    with session.chdir(site):
        session.run(
            python,
            "-c",
            "import refreshauth, sys; "
            "assert 'site-packages' in refreshauth.__file__, refreshauth.__file__",
            external=True,
            env=env,
        )
        session.run(
            python, "manage.py", "check", "--fail-level", "WARNING", external=True, env=env
        )
        session.run(python, "manage.py", "migrate", "--noinput", "-v0", external=True, env=env)
        session.run(python, "manage.py", "clearrefreshtokens", external=True, env=env)
