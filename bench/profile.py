"""What a server worker spent its CPU on, from a py-spy profile in raw (collapsed) form:
``python -m bench.profile FILE...``.

``bench/run.py --profile`` records one worker of each load scenario with
``py-spy record --gil`` (only the thread holding the GIL is sampled, so the samples are
CPU time, not waiting; py-spy pauses the worker for each sample, so that every stack is
read whole) into bench/results/profile-<scenario>-<library>.raw, and writes this summary
beside it (.txt). Each sample goes to the innermost frame that belongs to a component
below (frames of the standard library go to their caller), and to the request it
served.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

# Innermost first: the first that matches a frame's file names its component.
COMPONENTS = [
    ("psycopg", "PostgreSQL client (psycopg)"),
    ("django/db/", "Django ORM and SQL compiler"),
    ("redis/", "cache client (redis-py, Django's cache)"),
    ("django/core/cache/", "cache client (redis-py, Django's cache)"),
    ("jwt/", "JWT and crypto (PyJWT, cryptography)"),
    ("cryptography/", "JWT and crypto (PyJWT, cryptography)"),
    ("django_ratelimit/", "rate limit (django-ratelimit)"),
    ("refreshauth/", "refreshauth's own code"),
    ("rest_framework_simplejwt/", "simplejwt's own code"),
    ("rest_framework/", "DRF (views, parsers, renderers)"),
    ("gunicorn/", "gunicorn (HTTP parsing, threads)"),
    ("django/", "Django (handler, middleware, URLs, responses)"),
    ("example_project/", "the example's views"),
    ("bench/", "the example's views"),
]


def component(frame: str) -> str | None:
    location = frame[frame.rfind("(") + 1 :]
    for prefix, name in COMPONENTS:
        if location.startswith(prefix) or f"/{prefix}" in location:
            return name
    return None


def request_of(frames: list[str]) -> str:
    """Which request a sample served: authentication runs for the GETs only (the
    libraries' refresh views authenticate nobody)."""
    for frame in frames:
        if "refreshauth/views.py" in frame or "rest_framework_simplejwt/views.py" in frame:
            return "refresh"
        if "Authentication.authenticate" in frame or "MeView" in frame:
            return "GET /api/me/"
    return "neither view: gunicorn, Django's handler and middleware, DRF's dispatch"


def function(frame: str) -> str:
    """``name (file:line)`` without the line, so that a function counts once."""
    name, _, location = frame.partition(" (")
    return f"{name} ({location.rsplit(':', 1)[0]})"


def summarize(path: Path, top: int = 12) -> str:
    by_component: Counter[str] = Counter()
    by_request: Counter[str] = Counter()
    split: dict[str, Counter[str]] = {}
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        found = next((c for f in reversed(frames) if (c := component(f))), "other (stdlib)")
        request = request_of(frames)
        by_component[found] += count
        by_request[request] += count
        split.setdefault(request, Counter())[found] += count
        for name in {function(f) for f in frames}:
            inclusive[name] += count
        own[function(frames[-1])] += count
    if not total:
        return f"{path.name}: no samples\n"

    def share(counter: Counter[str], title: str, limit: int | None = None) -> list[str]:
        lines = [title]
        for name, count in counter.most_common(limit):
            lines.append(f"  {100 * count / total:5.1f}%  {name}")
        return lines

    out = [f"{path.name}: {total} samples of CPU (the thread holding the GIL)"]
    out += share(by_component, "by component (innermost frame of a named package):")
    out += share(by_request, "by request:")
    for request, counter in sorted(split.items(), key=lambda item: -sum(item[1].values())):
        out += share(counter, f"  {request}, by component:", 6)
    out += share(own, f"top {top} functions by own time:", top)
    hot = Counter({f: c for f, c in inclusive.items() if component(f) in LIBRARY_CODE})
    out += share(hot, f"top {top} library functions by inclusive time:", top)
    return "\n".join(out) + "\n"


LIBRARY_CODE = {"refreshauth's own code", "simplejwt's own code"}


def main() -> None:
    for name in sys.argv[1:]:
        print(summarize(Path(name)))


if __name__ == "__main__":
    main()
