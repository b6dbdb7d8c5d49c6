"""The two queries on the request path, with their SQL built once per process.

Django's ORM spends far longer building a query than the database spends answering it
(hundreds of microseconds against tens, for a primary-key lookup). refreshauth asks the
ORM for the SQL of each hot query once, with a sentinel in place of the looked-up value,
and then only swaps the value in. Results go through the ORM's own converters and
``Model.from_db()``, so the instances are the ones the ORM would have made. Whenever a
queryset is not a plain one (a default manager that filters, annotates or defers), the
ORM answers instead.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Field, Model, QuerySet

_SENTINELS: dict[str, Any] = {
    "AutoField": -1_846_529_013,  # fits every integer column
    "BigAutoField": -1_846_529_013,
    "IntegerField": -1_846_529_013,
    "BigIntegerField": -1_846_529_013,
    "UUIDField": uuid.UUID(int=0x5E471E1),
    "CharField": "refreshauth-sentinel-1846529013",
    "EmailField": "refreshauth-sentinel-1846529013@example.invalid",
    "SlugField": "refreshauth-sentinel-1846529013",
    "TextField": "refreshauth-sentinel-1846529013",
}


OPERATORS = frozenset({"=", ">", "IS NULL"})


class NoValue(ValueError):
    """The value cannot be one of the field's: no row can match it."""


def db_value(field: Field[Any, Any], value: Any, alias: str) -> Any:
    """``value`` as the ORM would send it to the database in a lookup on ``field``."""
    connection = connections[alias]
    try:
        python = field.to_python(value)
    except (ValidationError, TypeError, ValueError):
        raise NoValue(value) from None
    if isinstance(python, int):
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        if (low is not None and python < low) or (high is not None and python > high):
            raise NoValue(value)
    return field.get_db_prep_value(field.get_prep_value(python), connection, prepared=True)


@dataclass(frozen=True)
class _Part:
    model: type[Model]
    attnames: tuple[str, ...]
    columns: tuple[int, ...]
    attribute: str | None  # where it goes on the first instance (select_related)


@dataclass(frozen=True)
class CompiledSelect:
    sql: str
    params: tuple[Any, ...]
    index: int
    field: Field[Any, Any]
    parts: tuple[_Part, ...]
    converters: dict[int, tuple[list[Any], Any]]

    def fetch(self, value: Any, alias: str) -> Model | None:
        """The one instance whose field equals ``value`` (related ones attached), or None."""
        try:
            prepared = db_value(self.field, value, alias)
        except NoValue:
            return None
        params = list(self.params)
        params[self.index] = prepared
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchmany(2)
        if len(rows) != 1:
            return None
        row = list(rows[0])
        for position, (functions, expression) in self.converters.items():
            for convert in functions:
                row[position] = convert(row[position], expression, connection)
        first: Model | None = None
        for part in self.parts:
            instance = part.model.from_db(
                alias, list(part.attnames), [row[i] for i in part.columns]
            )
            if first is None:
                first = instance
            elif part.attribute is not None:
                setattr(first, part.attribute, instance)
        return first


def compile_select(
    queryset: Callable[[Any], QuerySet[Any]], field: Field[Any, Any], alias: str
) -> CompiledSelect | None:
    """Compile ``queryset(sentinel)``, a lookup of one row by ``field``; None when it is not
    a plain one that this module can answer exactly as the ORM would."""
    sentinel = _SENTINELS.get(field.get_internal_type())
    if sentinel is None:
        return None
    query = queryset(sentinel).using(alias).query
    if (
        len(query.where.children) != 1  # a manager that filters may filter on the time
        or query.annotations
        or query.extra
        or query.deferred_loading != (frozenset(), True)
        or query.distinct
        or query.combinator
    ):
        return None
    compiler = query.get_compiler(alias)
    sql, params = compiler.as_sql()
    prepared = db_value(field, sentinel, alias)
    positions = [i for i, p in enumerate(params) if p == prepared]
    if len(positions) != 1 or compiler.klass_info is None:
        return None
    parts = [_part(compiler, compiler.klass_info, None)]
    for related in compiler.klass_info.get("related_klass_infos", []):
        if related.get("related_klass_infos") or related.get("from_parent"):
            return None
        parts.append(_part(compiler, related, related["field"].name))
    converters = compiler.get_converters([column for column, _, _ in compiler.select])
    return CompiledSelect(sql, tuple(params), positions[0], field, tuple(parts), converters)


def _part(compiler: Any, klass_info: dict[str, Any], attribute: str | None) -> _Part:
    columns = tuple(klass_info["select_fields"])
    attnames = tuple(compiler.select[i][0].target.attname for i in columns)
    return _Part(klass_info["model"], attnames, columns, attribute)


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.column:
        raise ValueError(f"{name!r} is not a column of {model.__name__}")
    return field


def _column(model: type[Model], name: str) -> str:
    return str(_field(model, name).column)


@functools.lru_cache(maxsize=4)
def _update_sql(
    model: type[Model], sets: tuple[str, ...], wheres: tuple[str, ...], alias: str
) -> str:
    connection = connections[alias]
    quote = connection.ops.quote_name
    meta = model._meta
    set_sql = ", ".join(f"{quote(_column(model, name))} = %s" for name in sets)
    conditions = []
    for condition in wheres:
        name, _, operator = condition.partition(" ")
        if operator not in OPERATORS:
            raise ValueError(f"unsupported operator {operator!r}")
        column = quote(_column(model, name))
        conditions.append(
            f"{column} IS NULL" if operator == "IS NULL" else f"{column} {operator} %s"
        )
    # Only quoted column names and whitelisted operators go into the text; values are params.
    where_sql = " AND ".join(conditions)
    return f"UPDATE {quote(meta.db_table)} SET {set_sql} WHERE {where_sql}"  # noqa: S608


def update(
    model: type[Model],
    values: dict[str, Any],
    where: Sequence[tuple[str, str, Any]],
    alias: str,
) -> int:
    """``UPDATE model SET values WHERE ...`` in one statement; the number of rows changed.

    ``where`` is ``(field, operator, value)`` with operator ``=``, ``>`` or ``IS NULL``.
    Values are prepared by their fields, as ``QuerySet.update()`` does.
    """
    connection = connections[alias]
    sets = tuple(values)
    wheres = tuple(f"{name} {operator}" for name, operator, _ in where)
    sql = _update_sql(model, sets, wheres, alias)
    params = [_field(model, name).get_db_prep_save(v, connection) for name, v in values.items()]
    for name, operator, value in where:
        if operator != "IS NULL":
            field = _field(model, name)
            params.append(field.get_db_prep_value(field.get_prep_value(value), connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
