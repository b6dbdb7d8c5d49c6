"""The statements on the request path, written once per database connection and proven
equal to the ORM.

Django's ORM spends far longer building a query than the database spends answering a
primary-key lookup (hundreds of microseconds against tens). For the three statements
that every refresh or API call runs (a session with its user, a user, the rotation's
conditional UPDATE), refreshauth writes the SQL once per database connection from the
model's documented metadata (``_meta.concrete_fields``, ``db_table``, each field's
``column``), quoted by ``connection.ops.quote_name()``; values are prepared by the
fields (``get_db_prep_value()``), results converted by the converters that the backend
and the field declare for each column (the ones the ORM's compiler asks for), and rows
become instances through ``Model.from_db()``, a joined object attached with the
relation's ``set_cached_value()``, as the ORM does.

The ORM stays the reference: every function here has an ORM twin that it must equal,
used whenever a queryset is not a plain one (a default manager that overrides
``get_queryset()``, a queryset class that changes iteration) and, for the whole process,
when the environment variable ``REFRESHAUTH_ORM_ONLY`` is ``1``. The test suite runs
once each way.

Compiled statements are kept per connection object: Django gives each thread its own
connection, so nothing compiled here is shared across threads.
"""

from __future__ import annotations

import inspect
import os
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import Field, ForeignKey, Model, QuerySet
from django.db.models.manager import BaseManager

__all__ = ["ORM_ONLY_ENV", "fast", "select_one", "update_where"]

ORM_ONLY_ENV = "REFRESHAUTH_ORM_ONLY"

_compiled: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], Any]] = weakref.WeakKeyDictionary()
# Django 6.1 gives instances a fetch mode; the ORM's default is FETCH_ONE.
_FROM_DB_KWARGS: dict[str, Any] = (
    {"fetch_mode": vars(models)["FETCH_ONE"]}
    if "fetch_mode" in inspect.signature(Model.from_db).parameters
    else {}
)


def fast() -> bool:
    """Whether the precompiled statements are used (``REFRESHAUTH_ORM_ONLY`` unset)."""
    return os.environ.get(ORM_ONLY_ENV, "") not in ("1", "true", "yes")


def plain(manager: BaseManager[Any]) -> bool:
    """Whether ``manager`` answers a lookup exactly as its model's table does: it does not
    override ``get_queryset()`` and its queryset class iterates as Django's does."""
    if type(manager).get_queryset is not BaseManager.get_queryset:
        return False
    queryset_class = type(manager.get_queryset())
    return all(
        getattr(queryset_class, name) is getattr(QuerySet, name)
        for name in ("__iter__", "iterator", "_fetch_all")
    )


_NOT_A_VALUE = (ValidationError, ValueError, TypeError)


class NoValue(ValueError):
    """The value cannot be one of the field's: no row can match it."""


def _prepared(field: Field[Any, Any], value: Any, connection: Any) -> Any:
    """``value`` as the ORM sends it in an exact lookup on ``field``."""
    try:
        python = field.to_python(value)
    except _NOT_A_VALUE:
        raise NoValue(value) from None
    if isinstance(python, int) and not isinstance(python, bool):
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        if (low is not None and python < low) or (high is not None and python > high):
            raise NoValue(value)
    return field.get_db_prep_value(field.get_prep_value(python), connection, prepared=True)


def _cache(connection: Any) -> dict[tuple[Any, ...], Any]:
    cache = _compiled.get(connection)
    if cache is None:
        cache = _compiled[connection] = {}
    return cache


@dataclass(frozen=True)
class _Select:
    sql: str
    models: tuple[type[Model], ...]
    attnames: tuple[tuple[str, ...], ...]
    converters: tuple[tuple[Any, ...], ...]  # per column: (converter, expression) pairs

    def instances(self, alias: str, row: tuple[Any, ...], connection: Any) -> list[Model]:
        values = list(row)
        for index, pairs in enumerate(self.converters):
            for convert, expression in pairs:
                values[index] = convert(values[index], expression, connection)
        made: list[Model] = []
        start = 0
        for model, attnames in zip(self.models, self.attnames, strict=True):
            chunk = values[start : start + len(attnames)]
            start += len(attnames)
            made.append(model.from_db(alias, list(attnames), chunk, **_FROM_DB_KWARGS))
        return made


def _compile_select(
    model: type[Model], field: Field[Any, Any], join: ForeignKey[Any, Any] | None, connection: Any
) -> _Select:
    quote = connection.ops.quote_name
    table = model._meta.db_table
    chain: list[type[Model]] = [model]
    if join is not None:
        chain.append(join.related_model)
    columns: list[str] = []
    attnames: list[tuple[str, ...]] = []
    converters: list[tuple[Any, ...]] = []
    for member in chain:
        member_table = member._meta.db_table
        fields = member._meta.concrete_fields
        attnames.append(tuple(f.attname for f in fields))
        for f in fields:
            columns.append(f"{quote(member_table)}.{quote(f.column)}")
            expression = f.get_col(member_table)
            found = [
                *connection.ops.get_db_converters(expression),
                *expression.get_db_converters(connection),
            ]
            converters.append(tuple((convert, expression) for convert in found))
    source = quote(table)
    if join is not None:
        related = join.related_model._meta.db_table
        target = join.target_field.column
        source += (
            f" INNER JOIN {quote(related)} ON"
            f" ({quote(table)}.{quote(join.column)} = {quote(related)}.{quote(target)})"
        )
    # Only quoted names from the model's metadata go into the text; the value is a param.
    sql = (
        f"SELECT {', '.join(columns)} FROM {source}"  # noqa: S608
        f" WHERE {quote(table)}.{quote(field.column)} = %s"
    )
    return _Select(sql, tuple(chain), tuple(attnames), tuple(converters))


def select_one(
    queryset: QuerySet[Any], field_name: str, value: Any, *, join: str | None = None
) -> Any:
    """The one instance of ``queryset`` whose unique field ``field_name`` equals
    ``value``, with the forward foreign key ``join`` loaded (``select_related``), or None
    (also for a value that cannot be one of the field's).

    Equal to ``queryset.select_related(join).filter(**{field_name: value})`` taken when it
    holds exactly one row; ``queryset`` must be a plain one (``plain()``) of a database
    alias given with ``using()``.
    """
    model = queryset.model
    alias = queryset.db
    meta = model._meta
    field = meta.pk if field_name == "pk" else meta.get_field(field_name)
    assert isinstance(field, Field)
    relation = meta.get_field(join) if join is not None else None
    assert relation is None or isinstance(relation, ForeignKey)
    if not fast():
        lookup = queryset.select_related(join) if join else queryset
        try:
            return lookup.get(**{field_name: value})
        except (model.DoesNotExist, model.MultipleObjectsReturned, *_NOT_A_VALUE):
            return None
    connection = connections[alias]
    try:
        prepared = _prepared(field, value, connection)
    except NoValue:
        return None
    cache = _cache(connection)
    key = ("select", model, field.name, join)
    compiled = cache.get(key)
    if compiled is None:
        compiled = cache[key] = _compile_select(model, field, relation, connection)
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, [prepared])
        rows = cursor.fetchmany(2)
    if len(rows) != 1:
        return None
    instance, *related = compiled.instances(alias, rows[0], connection)
    if relation is not None:
        relation.set_cached_value(instance, related[0])
    return instance


def update_where(
    model: type[Model],
    alias: str,
    values: Mapping[str, Any],
    *,
    equal: Mapping[str, Any],
    null: tuple[str, ...] = (),
    greater: Mapping[str, Any] | None = None,
) -> int:
    """``UPDATE`` the rows whose ``equal`` fields equal their values, whose ``null``
    fields are NULL and whose ``greater`` fields are greater than theirs, setting
    ``values``; the number of rows changed.

    Equal to ``model.objects.using(alias).filter(**equal, **{f"{n}__isnull": True},
    **{f"{k}__gt": v}).update(**values)``, which answers instead with
    ``REFRESHAUTH_ORM_ONLY``.
    """
    greater = greater or {}
    if not fast():
        lookups: dict[str, Any] = dict(equal)
        lookups.update({f"{name}__isnull": True for name in null})
        lookups.update({f"{name}__gt": value for name, value in greater.items()})
        return int(model._base_manager.using(alias).filter(**lookups).update(**values))
    connection = connections[alias]
    meta = model._meta
    key = ("update", model, tuple(values), tuple(equal), null, tuple(greater))
    cache = _cache(connection)
    sql = cache.get(key)
    if sql is None:
        quote = connection.ops.quote_name

        def column(name: str) -> str:
            field = meta.pk if name == "pk" else meta.get_field(name)
            assert isinstance(field, Field) and field.column
            return str(quote(field.column))

        assignments = ", ".join(f"{column(name)} = %s" for name in values)
        conditions = [f"{column(name)} = %s" for name in equal]
        conditions += [f"{column(name)} IS NULL" for name in null]
        conditions += [f"{column(name)} > %s" for name in greater]
        # Only quoted names from the model's metadata go into the text; values are params.
        sql = cache[key] = (
            f"UPDATE {quote(meta.db_table)} SET {assignments}"  # noqa: S608
            f" WHERE {' AND '.join(conditions)}"
        )
    params = [
        _field(meta, name).get_db_prep_save(value, connection) for name, value in values.items()
    ]
    for name, value in [*equal.items(), *greater.items()]:
        field = _field(meta, name)
        params.append(field.get_db_prep_value(field.get_prep_value(value), connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _field(meta: Any, name: str) -> Field[Any, Any]:
    field = meta.pk if name == "pk" else meta.get_field(name)
    assert isinstance(field, Field)
    return field
