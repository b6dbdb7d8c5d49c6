"""A file-based cache whose ``add()`` and ``incr()`` are atomic across processes.

Django's FileBasedCache is shared by every process on one machine, but its ``incr()`` is a
read followed by a write: two gunicorn workers counting failed logins at once can lose a
count. The example project serves several workers without Redis, so it takes a file lock
around the two operations that rate limits count with. Reads stay lock-free (each entry is
written to a temporary file and renamed into place). Use Redis for anything real.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache


class LockedFileBasedCache(FileBasedCache):
    @contextmanager
    def _locked(self) -> Iterator[None]:
        os.makedirs(self._dir, exist_ok=True)
        fd = os.open(os.path.join(self._dir, "counters.lock"), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        with self._locked():
            return super().add(key, value, timeout, version)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        with self._locked():
            return super().incr(key, delta, version)
