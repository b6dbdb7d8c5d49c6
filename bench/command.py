"""Run one management command at a given time, then print its wall time and peak RSS as
JSON: ``python -m bench.command ISO_TIME NAME [ARGS...]``."""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import datetime


def main() -> None:
    import django
    import time_machine

    at, name, *args = sys.argv[1:]
    django.setup()
    from django.core.management import call_command

    with time_machine.travel(datetime.fromisoformat(at), tick=True):
        start = time.perf_counter()
        call_command(name, *args)
        seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_kb / 1024}), file=sys.stderr)


if __name__ == "__main__":
    main()
