"""The audit trail: every write service records who changed what, with old and new values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models, transaction
from django.db.models.fields.files import FieldFile

from .models import AuditEntry


def _plain(value: Any) -> Any:
    if isinstance(value, AbstractBaseUser):
        return value.get_full_name() or value.get_username()
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, FieldFile):
        return value.name or ""
    return value


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The auditable values of a record, keyed by field name."""
    names = fields or [
        f.name for f in obj._meta.concrete_fields if f.name not in ("id", "organization", "created_at")
    ]
    return {name: _plain(getattr(obj, name)) for name in names}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Changed fields as {field: [old, new]}."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def audit_log(
    *,
    organization,
    user,
    action: str,
    obj: models.Model,
    data: dict[str, Any] | None = None,
    target: models.Model | None = None,
) -> AuditEntry:
    """Write one entry. `target` files the entry under another record's history
    (e.g. a changed folder line is shown on its folder)."""
    entry = audit_entry(
        organization=organization, user=user, action=action, obj=obj, data=data, target=target
    )
    entry.save()
    return entry


def audit_changes(
    obj: models.Model,
    changes: dict[str, list[Any]],
    *,
    user,
    action: str,
    organization=None,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Record an edit: `changes` ({field: [old, new]}, see `diff`) beside `data`. A save
    that changed nothing leaves no entry. `organization` defaults to the record's own."""
    if changes:
        audit_log(
            organization=organization or obj.organization,
            user=user,
            action=action,
            obj=obj,
            target=target,
            data={**(data or {}), "changes": changes},
        )


def audited_delete(
    obj: models.Model, *, user, action: str, data: dict[str, Any], target: models.Model | None = None
) -> None:
    """Delete a record with the entry that says what it was: both or neither."""
    with transaction.atomic():
        audit_log(organization=obj.organization, user=user, action=action, obj=obj, target=target, data=data)
        obj.delete()


def audit_entry(
    *,
    organization,
    user,
    action: str,
    obj: models.Model,
    data: dict[str, Any] | None = None,
    target: models.Model | None = None,
) -> AuditEntry:
    """The entry `audit_log` writes, unsaved (for bulk_create by services that change many
    records at once)."""
    anchor = target or obj
    payload = dict(data or {})
    if target is not None:
        payload.setdefault("record", f"{obj._meta.verbose_name}: {obj}")
    return AuditEntry(
        organization=organization,
        user=user if getattr(user, "is_authenticated", False) else None,
        action=action,
        object_type=anchor._meta.label_lower,
        object_id=anchor.pk,
        object_label=str(anchor)[:200],
        data=payload,
    )


def history_for(obj: models.Model):
    return AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=obj.pk).select_related(
        "user"
    )
