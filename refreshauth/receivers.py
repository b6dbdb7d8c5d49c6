"""Revocation on account changes: password change, deactivation.

Deleting a user deletes its sessions (the foreign key cascades), and the
authentication class refuses access tokens whose user no longer exists.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_init, post_save

from . import sessions, tokens
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

    A rehash by ``check_password()`` (a hasher upgrade at login) is not a change of
    password: it refreshes the sessions' password fingerprints instead.
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
        rehash = getattr(instance, "_password", None) is None and fields == frozenset({"password"})
        if rehash and old_password is not None:
            _refresh_fingerprints(instance, old_password)
        else:
            sessions.revoke_all(instance, RevokeReason.PASSWORD_CHANGE)
            return
    if saved("is_active") and new_active is False and old_active is not False:
        sessions.revoke_all(instance, RevokeReason.DEACTIVATED)


def _refresh_fingerprints(user: Any, old_password: str) -> None:
    keys = tokens.refresh_keys().by_kid.values()
    old = [sessions.fingerprint_of(old_password, key) for key in keys]
    RefreshToken.objects.filter(user_id=user.pk, password_fingerprint__in=old).update(
        password_fingerprint=sessions.password_fingerprint(user)
    )


def connect() -> None:
    user_model = get_user_model()
    post_init.connect(remember_state, sender=user_model, dispatch_uid="refreshauth.remember_state")
    post_save.connect(
        revoke_on_account_change, sender=user_model, dispatch_uid="refreshauth.account_change"
    )
