"""The cache of ``CACHE_ALIAS``: whether a session's access tokens may still be used,
and which DPoP proofs were already accepted.

The cache answers, the database decides. ``CACHE_ALIAS`` holds each session's state,
read through: a hit says live or revoked; a miss reads the session row once, by primary
key on the database that takes the session's writes, and remembers the answer ("live"
for ``SESSION_CACHE_TTL``, "revoked" until the session's last access token has expired).
A revocation writes "revoked" once its transaction commits. Whatever happens to the
cache (flushed, restarted, keys evicted), a revoked session is refused from the moment
its revocation commits; only a write lost while the cache was unreachable can let a
token through, and then for at most ``SESSION_CACHE_TTL``.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable

from django.core.cache import caches
from django.db import router, transaction
from django.utils.translation import gettext_lazy as _

from .conf import settings
from .exceptions import InvalidDPoPProof, InvalidToken, ServiceUnavailable
from .models import RefreshToken

__all__ = ["KEY_PREFIX", "accept_proof_once", "is_revoked", "mark_revoked"]

logger = logging.getLogger("refreshauth")

KEY_PREFIX = "refreshauth:session:"
PROOF_PREFIX = "refreshauth:dpop:"
LIVE = "live"
REVOKED = "revoked"


def _key(sid: object) -> str:
    return f"{KEY_PREFIX}{sid}"


def _revoked_timeout() -> int:
    # Long enough for the last access token a revoked session could have issued.
    return int((settings.ACCESS_TOKEN_LIFETIME + settings.LEEWAY).total_seconds()) + 1


def _live_timeout() -> int:
    return max(1, int(settings.SESSION_CACHE_TTL.total_seconds()))


def _session_exists_unrevoked(sid: uuid.UUID) -> bool:
    """Whether the row of ``sid`` exists and is not revoked, read where writes go (a
    replica that lags must not vouch for a session revoked a moment ago)."""
    alias = router.db_for_write(RefreshToken)
    return RefreshToken.objects.using(alias).filter(pk=sid, revoked_at__isnull=True).exists()


def is_revoked(sid: str) -> bool:
    """Whether access tokens of session ``sid`` must be refused.

    One cache read on a hit; on a miss, one primary-key query, remembered. A session row
    that no longer exists (its user or the row was deleted) is revoked. Raises
    ``ServiceUnavailable`` when the cache cannot answer: an outage is never an open door.
    """
    try:
        session_id = uuid.UUID(sid)
    except (ValueError, TypeError, AttributeError):
        raise InvalidToken() from None
    cache = caches[settings.CACHE_ALIAS]
    key = _key(session_id)
    try:
        state = cache.get(key)
    except Exception as exc:  # any backend's connection error
        raise ServiceUnavailable() from exc
    if state is not None:
        return bool(state == REVOKED)
    live = _session_exists_unrevoked(session_id)
    try:
        if live:
            # add(), not set(): a revocation that committed after our read and already
            # wrote "revoked" must not be overwritten with "live".
            cache.add(key, LIVE, timeout=_live_timeout())
        else:
            cache.set(key, REVOKED, timeout=_revoked_timeout())
    except Exception:  # the answer stands; remembering it is only an optimisation
        logger.warning("refreshauth: could not cache the state of session %s", session_id)
    return not live


def _write_revoked(keys: list[str]) -> None:
    try:
        caches[settings.CACHE_ALIAS].set_many(
            dict.fromkeys(keys, REVOKED), timeout=_revoked_timeout()
        )
    except Exception:
        # The database holds the revocation; the cache forgets "live" within
        # SESSION_CACHE_TTL and then asks it.
        logger.warning(
            "refreshauth: could not write the revocation of %d session(s) to the cache; "
            "their access tokens may be accepted for up to SESSION_CACHE_TTL",
            len(keys),
            exc_info=True,
        )


def mark_revoked(session_ids: Iterable[object]) -> None:
    """Once the current transaction commits, refuse the sessions' access tokens at once.

    A rolled-back revocation marks nothing; a cache failure is logged and never stops the
    project's own ``on_commit`` hooks.
    """
    if not settings.REVOKE_ACCESS_TOKENS:
        return
    keys = [_key(sid) for sid in session_ids]
    if not keys:
        return
    transaction.on_commit(
        lambda: _write_revoked(keys), using=router.db_for_write(RefreshToken), robust=True
    )


def accept_proof_once(jkt: str, jti: str, ttl: int) -> None:
    """Accept the DPoP proof ``jti`` of key ``jkt`` once (RFC 9449 §11.1): remember it for
    ``ttl`` seconds, the proof's lifetime, and refuse it if it was seen before. A cache
    that cannot answer raises ``ServiceUnavailable``: a replay is never let through."""
    digest = hashlib.sha256(f"{jkt}:{jti}".encode()).hexdigest()
    try:
        added = caches[settings.CACHE_ALIAS].add(f"{PROOF_PREFIX}{digest}", 1, timeout=ttl)
    except Exception as exc:  # any backend's connection error
        raise ServiceUnavailable() from exc
    if not added:
        raise InvalidDPoPProof(str(_("The DPoP proof was already used.")))
