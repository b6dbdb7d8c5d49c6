"""The read-replica router of the example project, used when REPLICA_DATABASE_URL is set:
the ordinary primary/replica split, reads from "replica" and writes to "default".

refreshauth needs nothing more: every read that decides a refresh, a logout, a
revocation, a session limit or a session's state goes to ``db_for_write``, so a replica
that lags cannot make a fresh token look reused or let a logout miss.
"""

from __future__ import annotations

from typing import Any


class PrimaryReplicaRouter:
    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        return "replica"

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica is a copy of the primary

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return True  # `migrate --database replica` builds a copy for trying this out
