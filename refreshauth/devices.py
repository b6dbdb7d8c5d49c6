"""Short labels for people of the device a session runs on ("Chrome 156 on Linux").

Read from the user agent with ``ua-parser`` (``pip install refreshauth[devices]``) and
cached per user-agent string, so a list of sessions costs one parse per distinct agent
per process. Without ``ua-parser`` the label is the agent's first product token.
"""

from __future__ import annotations

import functools
import re
from typing import Any

__all__ = ["describe"]

MAX_LABEL_LENGTH = 64
_PRODUCT = re.compile(r"[A-Za-z][\w.+-]*(?:/[\w.+-]+)?")


@functools.lru_cache(maxsize=1)
def _parser() -> Any:
    try:
        from ua_parser import parse  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return parse


def _join(family: str | None, major: str | None) -> str:
    if not family or family == "Other":
        return ""
    return f"{family} {major}" if major else family


@functools.lru_cache(maxsize=2048)
def describe(user_agent: str) -> str:
    """A label such as ``"Chrome 156 on Linux"`` or ``"Mobile Safari 17 on iOS"``; ``""``
    when nothing can be read from ``user_agent``."""
    if not user_agent:
        return ""
    parse = _parser()
    if parse is None:
        match = _PRODUCT.match(user_agent.strip())
        return match.group(0)[:MAX_LABEL_LENGTH] if match else ""
    result = parse(user_agent)
    browser = _join(*(_parts(result.user_agent)))
    system = _join(result.os.family, None) if result.os is not None else ""
    if browser and system:
        label = f"{browser} on {system}"
    else:
        label = browser or system
    return label[:MAX_LABEL_LENGTH]


def _parts(agent: Any) -> tuple[str | None, str | None]:
    if agent is None:
        return None, None
    return agent.family, agent.major
