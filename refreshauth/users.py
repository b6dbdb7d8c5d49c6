"""Loading the user of a token by ``USER_ID_FIELD`` in one query."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import router
from django.db.models import Field, Model

from .conf import settings
from .queries import CompiledSelect, compile_select


@functools.lru_cache(maxsize=8)
def _compile(model: type[Model], field_name: str, alias: str) -> CompiledSelect | None:
    field = model._meta.pk if field_name == "pk" else model._meta.get_field(field_name)
    if not isinstance(field, Field) or (field_name != "pk" and not field.unique):
        return None
    manager = model._default_manager
    return compile_select(lambda value: manager.filter(**{field.name: value}), field, alias)


def load_user(sub: str) -> Any:
    """The user whose ``USER_ID_FIELD`` is ``sub``, through the default manager, or None
    (also for a value that cannot be one of that field's)."""
    model = get_user_model()
    field_name = settings.USER_ID_FIELD
    alias = router.db_for_read(model)
    compiled = _compile(model, field_name, alias)
    if compiled is not None:
        return compiled.fetch(sub, alias)
    try:
        return model._default_manager.get(**{field_name: sub})
    except (
        model.DoesNotExist,
        model.MultipleObjectsReturned,
        ValueError,
        TypeError,
        ValidationError,
    ):
        return None
