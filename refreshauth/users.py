"""Loading the user of a token by ``USER_ID_FIELD`` in one query."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import router
from django.db.models import Field

from . import queries
from .conf import settings


def _unique(model: Any, field_name: str) -> bool:
    if field_name == "pk":
        return True
    field = model._meta.get_field(field_name)
    return isinstance(field, Field) and bool(field.unique)


def load_user(sub: str) -> Any:
    """The user whose ``USER_ID_FIELD`` is ``sub``, through the default manager, or None
    (also for a value that cannot be one of that field's, and when two users match)."""
    model = get_user_model()
    field_name = settings.USER_ID_FIELD
    manager = model._default_manager
    alias = router.db_for_read(model)
    if _unique(model, field_name) and queries.plain(manager):
        return queries.select_one(manager.using(alias), field_name, sub)
    try:
        return manager.using(alias).get(**{field_name: sub})
    except (
        model.DoesNotExist,
        model.MultipleObjectsReturned,
        ValueError,
        TypeError,
        ValidationError,
    ):
        return None
