"""Fast inserts of many complete rows, for batch writers in any app (the billing run,
bulk invoice issuing): COPY on PostgreSQL, bulk_create elsewhere."""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone


def insert_rows(model, rows: Sequence[dict], *, ids: bool = True) -> list[int]:
    """Insert `rows` ({attname: value}; missing fields get their default, auto_now(_add)
    fields the current time) in as few statements as possible; returns the new primary
    keys in order (when `ids`).

    On PostgreSQL the rows go in with COPY, their keys taken from the table's identity
    sequence beforehand (so the caller can link child rows without reading them back);
    elsewhere through bulk_create. Like bulk_create this skips save() and signals: use it
    only for rows that are complete and final when written, in the caller's transaction.
    """
    if not rows:
        return []
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    stamped = {
        f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    defaults = {f.attname: (now if f.attname in stamped else f.get_default()) for f in fields}
    names = [f.attname for f in fields]
    if connection.vendor != "postgresql":
        objects = []
        for row in rows:
            values = {**defaults, **row}
            for name in stamped:
                if values[name] is None:
                    values[name] = now
            objects.append(model(**values))
        created = model._base_manager.bulk_create(objects, batch_size=1000)
        return [obj.pk for obj in created] if ids else []
    return _copy_rows(model, rows, names=names, defaults=defaults, stamped=stamped, now=now, ids=ids)


def _copy_rows(model, rows, *, names, defaults, stamped, now, ids: bool) -> list[int]:
    from psycopg import sql  # PostgreSQL only

    fields = {f.attname: f for f in model._meta.concrete_fields}
    json_columns = [i for i, name in enumerate(names) if isinstance(fields[name], models.JSONField)]
    stamped_columns = [i for i, name in enumerate(names) if name in stamped]
    encoder = DjangoJSONEncoder
    table = model._meta.db_table
    keys: list[int] = []
    columns = [fields[name].column for name in names]
    with connection.cursor() as cursor:
        if ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, model._meta.pk.column, len(rows)],
            )
            keys = [row[0] for row in cursor.fetchall()]
            columns = [model._meta.pk.column, *columns]
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        dumped: dict[int, str] = {}  # the same dict/list in many rows (an issuer snapshot) is dumped once
        # Raw COPY bypasses Django's cursor wrapper: map driver errors to django.db's
        # (a unique violation must be an IntegrityError for the caller's fallback).
        with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
            for index, row in enumerate(rows):
                values = [row[name] if name in row else defaults[name] for name in names]
                for i in stamped_columns:
                    if values[i] is None:
                        values[i] = now
                for i in json_columns:
                    value = values[i]
                    if value is not None:
                        key = id(value)
                        text = dumped.get(key)
                        if text is None:
                            text = dumped[key] = json.dumps(value, cls=encoder)
                        values[i] = text
                if ids:
                    values.insert(0, keys[index])
                copy.write_row(values)
    return keys
