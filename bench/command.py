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
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_kb() / 1024}), file=sys.stderr)


def peak_rss_kb() -> int:
    """This process's peak resident set since it started (VmHWM). getrusage's ru_maxrss
    would not do: Linux carries it over from the parent across fork and exec."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    main()
