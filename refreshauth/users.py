"""Loading the user of a token by ``USER_ID_FIELD`` in one query, with the SQL compiled
once per process instead of on every request."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import Field, Model

from .conf import settings

_SENTINEL_INT = -1_846_529_013  # fits every integer column


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    index: int  # where the looked-up value goes in params
    field: Field[Any, Any]
    attnames: tuple[str, ...]
    converters: dict[int, tuple[list[Any], Any]]  # the ORM's, per column (dates, ...)


def _sentinel(field: Field[Any, Any]) -> Any:
    internal = field.get_internal_type()
    if internal in ("AutoField", "BigAutoField", "IntegerField", "BigIntegerField"):
        return _SENTINEL_INT
    if internal == "UUIDField":
        import uuid

        return uuid.UUID(int=0x5E471E1)
    if internal in ("CharField", "EmailField", "SlugField", "TextField"):
        return "refreshauth-sentinel-7301846529013"
    return None


def _db_value(field: Field[Any, Any], value: Any, alias: str) -> Any:
    """``value`` as the ORM would send it to the database for ``field``; ValueError when
    it is not a value of that field (the ORM would find no row)."""
    connection = connections[alias]
    python = field.to_python(value)
    if isinstance(python, int):
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        if (low is not None and python < low) or (high is not None and python > high):
            raise ValueError("out of the field's range")
    return field.get_db_prep_value(field.get_prep_value(python), connection, prepared=True)


@functools.lru_cache(maxsize=8)
def _compile(model: type[Model], field_name: str, alias: str) -> _Compiled | None:
    """The SQL of ``_default_manager.filter(field=value)`` with the value's position in its
    params, or None when that queryset is not a plain one of the model's own columns
    (a custom manager that annotates, joins or defers): then the ORM does it."""
    field = model._meta.pk if field_name == "pk" else model._meta.get_field(field_name)
    if not isinstance(field, Field) or (field_name != "pk" and not field.unique):
        return None
    sentinel = _sentinel(field)
    if sentinel is None:
        return None
    queryset = model._default_manager.using(alias).filter(**{field.name: sentinel})
    query = queryset.query
    if (
        len(query.where.children) != 1  # a manager that filters may filter on the time
        or query.select_related
        or query.annotations
        or query.extra
        or query.deferred_loading != (frozenset(), True)
        or query.distinct
        or query.combinator
    ):
        return None
    compiler = query.get_compiler(alias)
    sql, params = compiler.as_sql()
    prepared = _db_value(field, sentinel, alias)
    positions = [i for i, p in enumerate(params) if p == prepared]
    concrete = tuple(f.attname for f in model._meta.concrete_fields)
    if len(positions) != 1 or len(compiler.select) != len(concrete):
        return None
    converters = compiler.get_converters([column for column, _, _ in compiler.select])
    return _Compiled(sql, tuple(params), positions[0], field, concrete, converters)


def load_user(sub: str) -> Any:
    """The user whose ``USER_ID_FIELD`` is ``sub``, or None (also for a malformed value)."""
    model = get_user_model()
    field_name = settings.USER_ID_FIELD
    alias = router.db_for_read(model)
    compiled = _compile(model, field_name, alias)
    if compiled is None:
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
    try:
        value = _db_value(compiled.field, sub, alias)
    except (ValueError, TypeError, ValidationError):
        return None
    params = list(compiled.params)
    params[compiled.index] = value
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        rows = cursor.fetchmany(2)
    if len(rows) != 1 or len(rows[0]) != len(compiled.attnames):
        return None
    row = list(rows[0])
    for position, (functions, expression) in compiled.converters.items():
        for convert in functions:
            row[position] = convert(row[position], expression, connection)
    return model.from_db(alias, list(compiled.attnames), row)
