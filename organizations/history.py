"""Audit entries as people read them: field labels instead of names, choice labels,
dates and numbers in the reader's format. Shared by every page that shows a history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils import formats
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .audit import history_for
from .countries import COUNTRIES
from .timezones import local_datetime


def _field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - keys that are no field (e.g. "serial_numbers")
        return None


def field_label(model: type[models.Model] | None, name: str) -> str:
    """The field's verbose name, capitalised; the stored key when the model has no such field."""
    field = _field(model, name)
    label = getattr(field, "verbose_name", None)
    return capfirst(str(label)) if label else name


def display_value(model: type[models.Model] | None, name: str, value: Any) -> Any:
    """A stored (JSON) value as the reader expects it: choice labels, yes/no, localised
    dates, date-times and decimals; anything else as stored."""
    if value is None or value == "":
        return ""
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    field = _field(model, name)
    if name == "country" and isinstance(value, str):
        return str(dict(COUNTRIES).get(value, value))
    if field is not None and field.choices:
        choices = {str(key): label for key, label in field.flatchoices}
        return str(choices.get(str(value), value))
    internal = field.get_internal_type() if field is not None else ""
    if isinstance(value, str) and internal in ("DateTimeField",):
        parsed = parse_datetime(value)
        return local_datetime(parsed) if parsed else value
    if isinstance(value, str) and (internal == "DateField" or _looks_like_date(value)):
        parsed = parse_date(value) if _looks_like_date(value) else None
        return formats.date_format(parsed, "SHORT_DATE_FORMAT") if parsed else value
    if internal == "DecimalField":
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ArithmeticError):
            return value
        places = (
            field.decimal_places
            if field.decimal_places == 2
            else max(0, -number.normalize().as_tuple().exponent)
        )
        return formats.number_format(number, decimal_pos=places, use_l10n=True)
    return value


def _looks_like_date(value: str) -> bool:
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def record_label(model: type[models.Model] | None, record: str) -> str:
    """An entry's "<kind>: <record>" label (written in the writer's language) with the kind
    in the reader's language."""
    if model is None or not record:
        return record
    return f"{capfirst(model._meta.verbose_name)}: {record.partition(': ')[2] or record}"


def readable_changes(model: type[models.Model] | None, changes: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """`{field: [old, new]}` as (label, old, new) rows in the model's field order."""
    order = {f.name: i for i, f in enumerate(model._meta.fields)} if model is not None else {}
    rows = []
    for name, values in sorted(changes.items(), key=lambda item: order.get(item[0], 999)):
        old, new = (list(values) + [None, None])[:2] if isinstance(values, list | tuple) else (None, values)
        rows.append(
            (field_label(model, name), display_value(model, name, old), display_value(model, name, new))
        )
    return rows


def readable_history(
    obj: models.Model, *, limit: int = 20, models_by_action: dict[str, type[models.Model]] | None = None
) -> list[dict[str, Any]]:
    """The record's audit entries, each with its changes as readable (label, old, new) rows.
    `models_by_action` names the model whose labels fit entries filed under `obj` by
    another record (``{"membership": Membership}`` for "membership.role_changed")."""
    entries = []
    for entry in history_for(obj)[:limit]:
        data = entry.data or {}
        model = (models_by_action or {}).get(entry.action.partition(".")[0], type(obj))
        entries.append(
            {
                "created_at": entry.created_at,
                "user": entry.user,
                "action": entry.action,
                "data": data,
                "changes": readable_changes(model, data.get("changes") or {}),
            }
        )
    return entries
