"""The docs describe what the code does: every setting documented exists, and the other
way round; every endpoint is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from refreshauth.conf import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
SETTING_ROW = re.compile(r"^\| `([A-Z][A-Z_]+)`(?:, `([A-Z][A-Z_]+)`)? \|", re.MULTILINE)


def documented_settings(path: Path) -> set[str]:
    names: set[str] = set()
    for match in SETTING_ROW.finditer(path.read_text()):
        names.update(n for n in match.groups() if n)
    return names


@pytest.mark.parametrize("doc", ["README.md", "docs/settings.md"])
def test_every_setting_is_documented_and_exists(doc: str) -> None:
    assert documented_settings(ROOT / doc) == set(DEFAULTS)


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
    used = set(re.findall(r"_(error|warning)\(\s*(\d+)", source))
    table = set(re.findall(r"^\| ([EW])(\d{3}) \|", checks.__doc__ or "", re.MULTILINE))
    assert {("E" if kind == "error" else "W", f"{int(n):03d}") for kind, n in used} == table
