"""allauth's sessions and refreshauth's, kept in step.

- allauth logs the user out (``user_logged_out``): the refreshauth session of that
  Django session is revoked.
- With ``allauth.usersessions``: its row of the Django session records the refreshauth
  session id (in ``UserSession.data``); ending it (allauth's sessions list, or its purge
  of a Django session that is gone) revokes the refreshauth session, and revoking the
  refreshauth session (reuse, ``sessions/``, logout-all, the admin, a password change)
  ends the allauth session.
"""

from __future__ import annotations

from typing import Any

from allauth.core import context
from django.apps import apps
from django.contrib.auth.signals import user_logged_out
from django.db import router, transaction
from django.db.models.signals import post_delete, post_save

from refreshauth import sessions
from refreshauth.models import RefreshToken, RevokeReason
from refreshauth.signals import session_revoked

from .strategy import SID_SESSION_KEY, parse_sid

USERSESSIONS = "allauth.usersessions"
# The key of allauth.usersessions' ``UserSession.data`` that holds the refreshauth sid.
SID_DATA_KEY = "refreshauth_sid"


def usersessions_installed() -> bool:
    return apps.is_installed(USERSESSIONS)


def revoke_sid(sid: object, reason: str, request: Any = None) -> bool:
    """Revoke refreshauth session ``sid`` if it is live; False when there was none."""
    parsed = parse_sid(sid)
    if parsed is None:
        return False
    alias = router.db_for_write(RefreshToken)
    session = (
        RefreshToken.objects.using(alias)
        .select_related("user")
        .filter(pk=parsed, revoked_at__isnull=True)
        .first()
    )
    return session is not None and sessions.revoke(session, reason, request=request)


def link_user_session(session_key: str | None, session: RefreshToken) -> None:
    """Record refreshauth ``session`` on allauth.usersessions' row of ``session_key``."""
    if not session_key or not usersessions_installed():
        return
    from allauth.usersessions.models import UserSession

    for row in UserSession.objects.filter(session_key=session_key):
        row.data = {**(row.data or {}), SID_DATA_KEY: str(session.pk)}
        row.save(update_fields=["data"])


def link_on_user_session_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    """allauth.usersessions saved its row of the session being served (it does so after
    allauth's response, and with it the strategy's tokens, is built): record the
    refreshauth session on it."""
    store = getattr(context.request, "session", None)
    if store is None or not instance.session_key or store.session_key != instance.session_key:
        return
    sid = store.get(SID_SESSION_KEY)
    data = instance.data or {}
    if sid is not None and data.get(SID_DATA_KEY) != sid:
        instance.data = {**data, SID_DATA_KEY: sid}
        type(instance).objects.filter(pk=instance.pk).update(data=instance.data)


def revoke_on_logout(sender: Any, request: Any = None, **kwargs: Any) -> None:
    """allauth (or anything) logged out a Django session that has a refreshauth session."""
    store = getattr(request, "session", None)
    sid = store.get(SID_SESSION_KEY) if store is not None else None
    if sid is not None:
        revoke_sid(sid, RevokeReason.LOGOUT, request=request)


def revoke_on_user_session_end(sender: Any, instance: Any, **kwargs: Any) -> None:
    """allauth.usersessions deleted its row: the refreshauth session ends with it."""
    sid = (instance.data or {}).get(SID_DATA_KEY)
    if sid is not None:
        revoke_sid(sid, RevokeReason.USER, request=context.request)


def end_user_sessions(
    sender: Any, session: RefreshToken, request: Any = None, **kwargs: Any
) -> None:
    """A refreshauth session was revoked: end its allauth session once that commits.

    The Django session of the request being served is left to allauth (deleting it
    under the request would fail its save); the strategy's ``lookup_session()`` ends it
    at its next use.
    """
    if not usersessions_installed():
        return
    from allauth.usersessions.models import UserSession

    current = request or context.request
    current_key = getattr(getattr(current, "session", None), "session_key", None)
    user_id, sid = session.user_id, str(session.pk)

    def end() -> None:
        rows = UserSession.objects.filter(user_id=user_id, **{f"data__{SID_DATA_KEY}": sid})
        for row in rows:
            if row.session_key != current_key:
                row.end()

    transaction.on_commit(end, robust=True)


def connect() -> None:
    user_logged_out.connect(revoke_on_logout, dispatch_uid="refreshauth.allauth.logout")
    session_revoked.connect(
        end_user_sessions, sender=RefreshToken, dispatch_uid="refreshauth.allauth.revoked"
    )
    if usersessions_installed():
        from allauth.usersessions.models import UserSession

        post_save.connect(
            link_on_user_session_save,
            sender=UserSession,
            dispatch_uid="refreshauth.allauth.usersession_link",
        )
        post_delete.connect(
            revoke_on_user_session_end,
            sender=UserSession,
            dispatch_uid="refreshauth.allauth.usersession_end",
        )
