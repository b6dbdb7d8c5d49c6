"""The docs describe what the code does: every setting documented exists with the default
of refreshauth.conf's table, and the other way round; every endpoint is documented."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from refreshauth.conf import DEFAULTS, SETTINGS

ROOT = Path(__file__).resolve().parent.parent
SETTING_ROW = re.compile(
    r"^\| `([A-Z][A-Z_]+)`(?:, `([A-Z][A-Z_]+)`)? \| ([^|]*) \|", re.MULTILINE
)
# A default written as a Python expression; anything else ("derived from `SECRET_KEY`",
# "the URL prefix of ...") describes what refreshauth computes when the table says None.
LITERAL = re.compile(r"^`([^`]+)`$")


def documented_settings(path: Path) -> dict[str, str]:
    """Each setting named in a table row of ``path``, with the text of its default."""
    names: dict[str, str] = {}
    for match in SETTING_ROW.finditer(path.read_text()):
        *keys, default = match.groups()
        names.update((key, default.strip()) for key in keys if key)
    return names


def documented_default(text: str) -> Any:
    literal = LITERAL.match(text)
    if literal is None:
        return None
    return eval(literal.group(1), {"__builtins__": {}, "timedelta": timedelta})


@pytest.mark.parametrize("doc", ["README.md", "docs/settings.md"])
def test_every_setting_is_documented_and_exists(doc: str) -> None:
    assert set(documented_settings(ROOT / doc)) == set(DEFAULTS)


@pytest.mark.parametrize("doc", ["README.md", "docs/settings.md"])
def test_documented_defaults_are_the_defaults(doc: str) -> None:
    documented = documented_settings(ROOT / doc)
    for name, default in DEFAULTS.items():
        assert documented_default(documented[name]) == default, name


def test_every_endpoint_is_documented() -> None:
    from refreshauth import urls

    text = (ROOT / "docs" / "endpoints.md").read_text()
    readme = (ROOT / "README.md").read_text()
    routes = {str(p.pattern).replace("<str:session_id>", "<id>") for p in urls.urlpatterns}
    for route in routes:
        assert route.replace("<id>", "&lt;id&gt;") in text, route
        assert f"`{route}`" in readme, route


def test_check_ids_are_documented() -> None:
    from refreshauth import checks

    source = Path(checks.__file__).read_text()
    used = {
        ("E" if kind == "error" else "W", int(n))
        for kind, n in re.findall(r"_(error|warning)\(\s*(\d+)", source)
    }
    used |= {("E", rule.error) for setting in SETTINGS.values() for rule in setting.rules}
    table = set(re.findall(r"^\| ([EW])(\d{3}) \|", checks.__doc__ or "", re.MULTILINE))
    assert {(kind, f"{n:03d}") for kind, n in used} == table
