"""The session lifecycle: open, rotate, revoke. Knows nothing of HTTP.

This is refreshauth's Python API: the views call it, and so can a site that logs users
in another way (SSO, social login, registration, tests)::

    from refreshauth import sessions

    tokens = sessions.open_session(user)          # a login: TokenResponse
    tokens = sessions.rotate(tokens.refresh_token)  # a refresh
    sessions.revoke_token(tokens.refresh_token)     # a logout
    sessions.revoke_all(user)                       # log out everywhere

A verified DPoP proof (``refreshauth.dpop``) passed as ``proof=`` binds a new session to
the client's key, and every rotation of a bound session needs one by that key. Reads
that decide (rotation, logout, revocation, the session limit) go to the database that
takes writes, never to a replica; the access tokens' view of a session's state lives in
``refreshauth.state``.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.db.models import Field, QuerySet
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _

from . import minting, queries, security, state, tokens
from .clients import ClientInfo
from .conf import settings
from .dpop import Proof
from .exceptions import ExpiredToken, InvalidDPoPProof, InvalidToken, ReusedToken, RevokedToken
from .models import RefreshToken, RefreshTokenQuerySet, RevokeReason
from .signals import refresh_token_reused, session_opened, session_revoked

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    User = AbstractBaseUser
else:
    User = Any

__all__ = [
    "ClientInfo",
    "TokenResponse",
    "clear_expired",
    "is_rehash",
    "is_session_revoked",
    "live_session_of",
    "live_sessions",
    "open_session",
    "password_fingerprint",
    "refresh_fingerprints",
    "revoke",
    "revoke_all",
    "revoke_sessions",
    "revoke_token",
    "rotate",
    "rotate_decoded",
]

DEVICE_NAME_MAX_LENGTH = 64


_now = minting.now
_from_ts = minting.from_timestamp
_seconds = minting.seconds
_response = minting.response
_current_fingerprint = minting.current_fingerprint
password_fingerprint = minting.password_fingerprint
fingerprint_of = minting.fingerprint_of
user_subject = minting.user_subject
TokenResponse = minting.TokenResponse


def _primary() -> str:
    """The database that decides: where session rows are written. A read that decides a
    rotation, a logout or a revocation must not come from a replica that lags."""
    return router.db_for_write(RefreshToken)


def _sessions() -> RefreshTokenQuerySet:
    return RefreshToken.objects.using(_primary())


def is_rehash(user: User, update_fields: frozenset[str] | None) -> bool:
    """Whether this save of ``user``'s password is Django rehashing it at a login (the
    same password, because the preferred hasher or its parameters changed): the only
    change of the stored hash that is not a password change.

    Django makes that save from the ``setter`` of ``AbstractBaseUser.check_password()``,
    once the raw password has matched the old hash. Nothing else, neither
    ``set_unusable_password()`` nor an assigned hash, whatever ``update_fields`` says,
    is taken for one. Where the setter cannot be seen (``acheck_password()`` saves from
    another thread), the save counts as a password change: the safe side.
    """
    if update_fields != frozenset({"password"}) or getattr(user, "_password", None) is not None:
        return False
    if not user.has_usable_password():
        return False
    frame = sys._getframe(1)
    for _depth in range(_REHASH_STACK_DEPTH):
        frame = frame.f_back  # type: ignore[assignment]
        if frame is None:
            return False
        code = frame.f_code
        if (
            code.co_name == "setter"
            and code.co_filename.endswith(_BASE_USER_FILE)
            and frame.f_locals.get("self") is user
        ):
            return True
    return False


_REHASH_STACK_DEPTH = 40
_BASE_USER_FILE = os.path.join("django", "contrib", "auth", "base_user.py")


def refresh_fingerprints(user: User, old_password_hash: str) -> int:
    """After a rehash, give ``user``'s sessions opened with the old hash the fingerprint of
    the new one, so that the check at refresh keeps them; return how many."""
    keys = tokens.refresh_keys().by_kid.values()
    old = [fingerprint_of(old_password_hash, key) for key in keys]
    return (
        _sessions()
        .filter(user_id=user.pk, password_fingerprint__in=old)
        .update(password_fingerprint=password_fingerprint(user))
    )


# --- opening -----------------------------------------------------------------------


def _accept(proof: Proof | None, bound_to: str) -> None:
    """The DPoP rule of a login or a refresh: a session bound to a key needs a proof by
    that key, ``DPOP = "required"`` needs a proof for every session, and a proof is
    accepted once. Raises ``InvalidDPoPProof`` before anything is changed."""
    if proof is None:
        if bound_to or settings.DPOP == "required":
            raise InvalidDPoPProof()
        return
    if bound_to and not constant_time_compare(proof.jkt, bound_to):
        raise InvalidDPoPProof(str(_("The DPoP proof was made with another key.")))
    state.accept_proof_once(proof.jkt, proof.jti, proof.replay_ttl)


def open_session(
    user: User,
    *,
    client: ClientInfo | None = None,
    request: Any = None,
    proof: Proof | None = None,
    device_name: str = "",
) -> TokenResponse:
    """Open a new session for ``user`` (a login) and return its first tokens.

    The caller has authenticated the user. With a verified DPoP ``proof``
    (``refreshauth.dpop.verify_proof()``), the session is bound to the proof's key for
    its whole life (RFC 9449); with ``DPOP = "required"`` a proof is needed. Sends
    ``session_opened``. With ``MAX_SESSIONS_PER_USER``, the user's least recently used
    sessions are revoked first.
    """
    _accept(proof, "")
    client = client or ClientInfo()
    now = _now()
    iat = int(now.timestamp())
    absolute_end = (
        iat + _seconds(settings.SESSION_MAX_LIFETIME)
        if settings.SESSION_MAX_LIFETIME is not None
        else None
    )
    exp = iat + _seconds(settings.REFRESH_TOKEN_LIFETIME)
    if absolute_end is not None:
        exp = min(exp, absolute_end)
    limit = settings.MAX_SESSIONS_PER_USER
    if limit:
        surplus = (
            _sessions()
            .live(now)
            .filter(user_id=user.pk)
            .order_by("-last_used_at")
            .values_list("pk", flat=True)[limit - 1 :]
        )
        _revoke_queryset(
            _sessions().filter(pk__in=list(surplus)),
            RevokeReason.SESSION_LIMIT,
            request,
        )
    jti = tokens.new_jti()
    session = RefreshToken.objects.create(
        id=uuid.uuid4(),
        user=cast(Any, user),
        jti_hash=tokens.digest(jti),
        password_fingerprint=password_fingerprint(user),
        created_at=now,
        last_used_at=now,
        expires_at=_from_ts(exp),
        absolute_expires_at=_from_ts(absolute_end) if absolute_end is not None else None,
        ip_address=client.ip_address,
        user_agent=client.user_agent,
        device_name=device_name[:DEVICE_NAME_MAX_LENGTH],
        dpop_jkt=proof.jkt if proof is not None else "",
    )
    session_opened.send(sender=RefreshToken, user=user, session=session, request=request)
    return _response(user, session, jti, iat, exp)


# --- rotation ----------------------------------------------------------------------


def _session_id(claims: dict[str, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(claims["sid"])
    except (ValueError, TypeError, AttributeError):
        raise InvalidToken() from None


def _user_exists(sub: str) -> bool:
    model = get_user_model()
    try:
        return (
            model._default_manager.using(router.db_for_write(model))
            .filter(**{settings.USER_ID_FIELD: sub})
            .exists()
        )
    except (ValueError, TypeError, ValidationError):
        return False


def _visible(user: User) -> bool:
    """Whether ``user``, loaded through the session's join, is one the default manager
    shows (a soft-delete manager may hide it): the authentication class loads users
    through that manager, and so must a refresh."""
    model = type(user)
    if queries.plain(model._default_manager):
        return True
    return model._default_manager.using(router.db_for_write(model)).filter(pk=user.pk).exists()


def _load_session(sid: uuid.UUID, sub: str) -> RefreshToken:
    session = cast("RefreshToken | None", queries.select_one(_sessions(), "pk", sid, join="user"))
    if session is None:
        # A signed, unexpired token without its row: the user was deleted (the rows
        # went with it), or the row was removed by hand.
        raise RevokedToken() if not _user_exists(sub) else InvalidToken()
    if user_subject(session.user) != sub:
        raise InvalidToken()
    return session


def _check_live(session: RefreshToken, now: datetime, request: Any) -> str:
    """Refuse a session that is revoked or whose user may no longer use it; return the
    password fingerprint to keep on the row (with the current refresh key)."""
    user = session.user
    if session.revoked_at is not None:
        raise RevokedToken()
    if not getattr(user, "is_active", True) or not _visible(user):
        revoke(session, RevokeReason.DEACTIVATED, request=request)
        raise RevokedToken()
    fingerprint = _current_fingerprint(user, session.password_fingerprint)
    if fingerprint is None:
        # The password changed without a signal (QuerySet.update(), raw SQL).
        revoke(session, RevokeReason.PASSWORD_CHANGE, request=request)
        raise RevokedToken()
    if session.expires_at <= now - settings.LEEWAY:
        raise ExpiredToken()
    return fingerprint


def rotate(
    refresh_token: str,
    *,
    client: ClientInfo | None = None,
    request: Any = None,
    proof: Proof | None = None,
) -> TokenResponse:
    """Exchange a refresh token for a new access token and a new refresh token.

    The presented token dies at once. Raises ``InvalidToken``, ``ExpiredToken``,
    ``RevokedToken`` or ``ReusedToken`` (after revoking the session) as the docs say.
    A successful rotation costs two queries: the session and its user, and one
    conditional UPDATE that only the first of concurrent requests wins.
    """
    return rotate_decoded(
        tokens.decode_refresh(refresh_token), client=client, request=request, proof=proof
    )


def rotate_decoded(
    decoded: tokens.Decoded,
    *,
    client: ClientInfo | None = None,
    request: Any = None,
    proof: Proof | None = None,
) -> TokenResponse:
    """``rotate()`` for a refresh token already verified by ``tokens.decode_refresh()``.

    A session bound to a DPoP key needs a verified ``proof`` by that key; without one it
    raises ``InvalidDPoPProof`` and changes nothing."""
    client = client or ClientInfo()
    claims = decoded.claims
    sid = _session_id(claims)
    sub: str = claims["sub"]
    old_jti: str = claims["jti"]
    old_hash = tokens.digest(old_jti)

    now = _now()
    session = _load_session(sid, sub)
    _accept(proof, session.dpop_jkt)
    fingerprint = _check_live(session, now, request)
    user = session.user
    if constant_time_compare(session.jti_hash, old_hash):
        new_jti = tokens.successor_jti(decoded.key, str(sid), old_jti)
        iat = int(now.timestamp())
        exp = iat + _seconds(settings.REFRESH_TOKEN_LIFETIME)
        if session.absolute_expires_at is not None:
            exp = min(exp, int(session.absolute_expires_at.timestamp()))
        if exp <= iat:
            raise ExpiredToken()
        values = {
            "jti_hash": tokens.digest(new_jti),
            "previous_jti_hash": old_hash,
            "rotated_at": _from_ts(iat),
            "last_used_at": now,
            "expires_at": _from_ts(exp),
            "password_fingerprint": fingerprint,
            "ip_address": client.ip_address,
            "user_agent": client.user_agent,
        }
        # The compare-and-swap: only the first of concurrent requests changes the row.
        changed = queries.update_where(
            RefreshToken,
            _primary(),
            values,
            equal={"pk": sid, "jti_hash": old_hash},
            null=("revoked_at",),
            greater={"expires_at": now - settings.LEEWAY},
        )
        if changed == 1:
            for name, value in values.items():
                setattr(session, name, value)
            return _response(user, session, new_jti, iat, exp)
        # Another request rotated this token first: look again to see what it did.
        session = _load_session(sid, sub)
        _check_live(session, now, request)
    return _answer_old_token(session, decoded, old_hash, now, request)


def _answer_old_token(
    session: RefreshToken, decoded: tokens.Decoded, old_hash: str, now: datetime, request: Any
) -> TokenResponse:
    """A signed token of this session that is no longer its current one: a grace-period
    retry, answered with the same successor, or reuse, which revokes the session."""
    claims = decoded.claims
    sid = str(session.pk)
    grace = settings.REUSE_GRACE_PERIOD
    if (
        grace > timedelta(0)
        and session.rotated_at is not None
        and constant_time_compare(session.previous_jti_hash, old_hash)
        and now < session.rotated_at + grace
    ):
        successor = tokens.successor_jti(decoded.key, sid, claims["jti"])
        if constant_time_compare(tokens.digest(successor), session.jti_hash):
            return _response(
                session.user,
                session,
                successor,
                int(session.rotated_at.timestamp()),
                int(session.expires_at.timestamp()),
            )
    if revoke(session, RevokeReason.REUSE, request=request):
        # Once per theft, not once per request of a race.
        security.record(
            "refresh_token_reused", request=request, user_id=session.user_id, session_id=sid
        )
        refresh_token_reused.send(
            sender=RefreshToken, user=session.user, session=session, request=request
        )
    raise ReusedToken()


def live_sessions(user: User) -> QuerySet[RefreshToken]:
    """``user``'s live sessions, most recently used first: for display, so a replica
    may answer."""
    return RefreshToken.objects.live(_now()).filter(user_id=user.pk).order_by("-last_used_at")


def live_session_of(user: User, session_id: object) -> RefreshToken | None:
    """``user``'s live session with id ``session_id``, or None (also for a malformed id)."""
    try:
        sid = uuid.UUID(str(session_id))
    except ValueError:
        return None
    return _sessions().live(_now()).filter(user_id=user.pk, pk=sid).select_related("user").first()


# --- revocation --------------------------------------------------------------------


def is_session_revoked(sid: str) -> bool:
    """Whether access tokens of session ``sid`` must be refused (see ``refreshauth.state``).

    Raises ``ServiceUnavailable`` when the cache cannot answer, ``InvalidToken`` for an id
    that is not a session id.
    """
    return state.is_revoked(sid)


def _send_revoked(sessions: Iterable[RefreshToken], reason: str, request: Any) -> None:
    for session in sessions:
        security.record(
            "session_revoked",
            request=request,
            user_id=session.user_id,
            session_id=session.pk,
            reason=reason,
        )
        session_revoked.send(
            sender=RefreshToken,
            user=session.user,
            session=session,
            reason=reason,
            request=request,
        )


def revoke(session: RefreshToken, reason: str = RevokeReason.API, *, request: Any = None) -> bool:
    """Revoke one session: its refresh tokens die at once, and with
    ``REVOKE_ACCESS_TOKENS`` its access tokens too. False when it was revoked already."""
    now = _now()
    changed = (
        _sessions()
        .filter(pk=session.pk, revoked_at__isnull=True)
        .update(revoked_at=now, revoke_reason=reason)
    )
    if not changed:
        return False
    session.revoked_at = now
    session.revoke_reason = reason
    state.mark_revoked([session.pk])
    _send_revoked([session], reason, request)
    return True


def _revoke_queryset(queryset: QuerySet[RefreshToken], reason: str, request: Any) -> int:
    alias = _primary()
    sessions = list(queryset.using(alias).filter(revoked_at__isnull=True).select_related("user"))
    if not sessions:
        return 0
    now = _now()
    ids = [s.pk for s in sessions]
    changed = (
        RefreshToken.objects.using(alias)
        .filter(pk__in=ids, revoked_at__isnull=True)
        .update(revoked_at=now, revoke_reason=reason)
    )
    for session in sessions:
        session.revoked_at = now
        session.revoke_reason = reason
    state.mark_revoked(ids)
    _send_revoked(sessions, reason, request)
    return changed


def revoke_sessions(
    queryset: QuerySet[RefreshToken], reason: str = RevokeReason.API, *, request: Any = None
) -> int:
    """Revoke every unrevoked session of ``queryset``; return how many were revoked."""
    return _revoke_queryset(queryset, reason, request)


def revoke_all(
    user: User,
    reason: str = RevokeReason.LOGOUT_ALL,
    *,
    keep: uuid.UUID | str | None = None,
    request: Any = None,
) -> int:
    """Revoke all of ``user``'s sessions but ``keep``; return how many were revoked."""
    queryset = _sessions().filter(user_id=user.pk)
    if keep is not None:
        queryset = queryset.exclude(pk=keep)
    return _revoke_queryset(queryset, reason, request)


def revoke_token(
    refresh_token: str, reason: str = RevokeReason.LOGOUT, *, request: Any = None
) -> bool:
    """Revoke the session of any refresh token it issued, current or rotated, expired or
    not (a logout). False, and nothing changed, for a token that is not ours."""
    try:
        claims = tokens.decode_refresh(refresh_token, verify_exp=False).claims
        sid = _session_id(claims)
    except InvalidToken:
        return False
    session = _sessions().select_related("user").filter(pk=sid).first()
    if session is None or user_subject(session.user) != claims["sub"]:
        return False
    if session.revoked_at is not None:
        # Already revoked; mark it again in case the first cache write was lost.
        state.mark_revoked([session.pk])
        return False
    return revoke(session, reason, request=request)


# --- cleanup -----------------------------------------------------------------------


def clear_expired(
    *,
    batch_size: int = 1000,
    dry_run: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Delete the sessions none of whose tokens can ever be used again; return how many.

    Works in batches of primary keys, each deleted in its own short transaction, so memory
    stays flat and no lock is held long whatever the table's size; safe beside live
    traffic and beside another run. Revoked sessions stay until they expire: until then
    they tell a reused token from garbage. ``on_batch`` is called with each batch's count.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    # The last access token of a session is issued at the latest when its refresh token
    # expires (plus LEEWAY) and lives ACCESS_TOKEN_LIFETIME (plus LEEWAY): until then the
    # row is what refuses it once revoked.
    cutoff = _now() - settings.ACCESS_TOKEN_LIFETIME - 2 * settings.LEEWAY
    alias = _primary()
    dead = RefreshToken.objects.using(alias).dead(cutoff)
    if dry_run:
        return dead.count()
    total = 0
    while True:
        batch = list(dead.values_list("pk", flat=True)[:batch_size])
        if not batch:
            return total
        with transaction.atomic(using=alias):
            deleted = _delete_dead(batch, cutoff, alias)
        total += deleted
        if on_batch is not None:
            on_batch(deleted)
        if len(batch) < batch_size:
            return total


def _delete_dead(pks: list[Any], cutoff: datetime, alias: str) -> int:
    """One ``DELETE ... WHERE id IN (...) AND expires_at <= cutoff``.

    Not ``QuerySet.delete()``: a session row's ``post_delete`` receiver (which kills the
    access tokens of a row deleted while they may live) would make the ORM load every
    row first. Rows past ``cutoff`` have no live token to kill.
    """
    connection = connections[alias]
    quote = connection.ops.quote_name
    meta = RefreshToken._meta
    pk_field, expires = meta.pk, meta.get_field("expires_at")
    assert pk_field is not None and isinstance(expires, Field)
    placeholders = ", ".join(["%s"] * len(pks))
    sql = (
        f"DELETE FROM {quote(meta.db_table)} WHERE {quote(str(pk_field.column))} "  # noqa: S608
        f"IN ({placeholders}) AND {quote(str(expires.column))} <= %s"
    )
    params = [pk_field.get_db_prep_value(pk, connection) for pk in pks]
    params.append(expires.get_db_prep_value(cutoff, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
