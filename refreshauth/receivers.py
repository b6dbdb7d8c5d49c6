"""Revocation on account changes: password change, deactivation, deletion.

Deleting a user deletes its sessions (the foreign key cascades); each deleted session
row is marked revoked in the session-state cache, and the authentication class refuses
access tokens whose user or session row no longer exists.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_init, post_save

from . import sessions, state
from .models import RefreshToken, RevokeReason

STATE = "_refreshauth_state"


def _state(instance: Any) -> tuple[Any, Any]:
    # Read from __dict__ so that a deferred field is not fetched: no query on load.
    return instance.__dict__.get("password"), instance.__dict__.get("is_active")


def remember_state(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Keep the loaded password hash and active flag, to tell later what a save changed."""
    setattr(instance, STATE, _state(instance))


def revoke_on_account_change(
    sender: Any, instance: Any, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    """Revoke the user's sessions when a save changed the password or deactivated it.

    A rehash by ``check_password()`` (a hasher upgrade at login, see
    ``sessions.is_rehash()``) is not a change of password: it refreshes the sessions'
    password fingerprints instead. Any other change of the stored hash ends them.
    """
    old_password, old_active = getattr(instance, STATE, (None, None))
    new_password, new_active = _state(instance)
    setattr(instance, STATE, (new_password, new_active))
    if created:
        return
    fields = frozenset(update_fields) if update_fields is not None else None

    def saved(name: str) -> bool:
        return fields is None or name in fields

    if saved("password") and new_password is not None and new_password != old_password:
        if old_password is not None and sessions.is_rehash(instance, fields):
            sessions.refresh_fingerprints(instance, old_password)
        else:
            sessions.revoke_all(instance, RevokeReason.PASSWORD_CHANGE)
            return
    if saved("is_active") and new_active is False and old_active is not False:
        sessions.revoke_all(instance, RevokeReason.DEACTIVATED)


def revoke_on_session_delete(sender: Any, instance: RefreshToken, **kwargs: Any) -> None:
    """A deleted session row (by hand, or with its user) takes its access tokens along."""
    state.mark_revoked([instance.pk])


def connect() -> None:
    user_model = get_user_model()
    post_init.connect(remember_state, sender=user_model, dispatch_uid="refreshauth.remember_state")
    post_save.connect(
        revoke_on_account_change, sender=user_model, dispatch_uid="refreshauth.account_change"
    )
    post_delete.connect(
        revoke_on_session_delete, sender=RefreshToken, dispatch_uid="refreshauth.session_delete"
    )
