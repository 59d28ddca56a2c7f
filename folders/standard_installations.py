"""Writes to standard installations (folder templates): a named set of products that
becomes a new folder's lines in one step (`folder_create_from_template` in services.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from organizations.audit import audit_changes, audit_log, audited_delete, diff, snapshot
from organizations.models import Organization

from .models import FolderTemplate, FolderTemplateItem
from .service_kit import apply_fields

TEMPLATE_FIELDS = ["name", "description", "is_active"]


def _template_items(template: FolderTemplate) -> list[str]:
    return [
        f"{i.quantity.normalize():f} × {i.product.name}" for i in template.items.select_related("product")
    ]


def _replace_items(template: FolderTemplate, items: list[dict[str, Any]]) -> None:
    objs = []
    for position, row in enumerate(items, start=1):
        item = FolderTemplateItem(
            organization=template.organization,
            template=template,
            position=position,
            product=row["product"],
            quantity=row.get("quantity") or Decimal("1"),
            include_service_package=bool(row.get("include_service_package", True)),
        )
        if item.product.organization_id != template.organization_id:
            raise ValidationError(_("Choose products of this organization."))
        if item.quantity <= 0:
            raise ValidationError(_("The quantity must be greater than zero."))
        item.full_clean(exclude=["template"])
        objs.append(item)
    template.items.all().delete()
    FolderTemplateItem.objects.bulk_create(objs)


def folder_template_create(
    *, organization: Organization, user, data: dict[str, Any], items: list[dict[str, Any]]
) -> FolderTemplate:
    template = FolderTemplate(organization=organization)
    apply_fields(template, data, TEMPLATE_FIELDS)
    template.full_clean()
    with transaction.atomic():
        template.save()
        _replace_items(template, items)
        audit_log(
            organization=organization,
            user=user,
            action="folder_template.created",
            obj=template,
            data={"values": snapshot(template, TEMPLATE_FIELDS), "items": _template_items(template)},
        )
    return template


def folder_template_update(
    *, template: FolderTemplate, user, data: dict[str, Any], items: list[dict[str, Any]]
) -> FolderTemplate:
    before = snapshot(template, TEMPLATE_FIELDS)
    before_items = _template_items(template)
    apply_fields(template, data, TEMPLATE_FIELDS)
    template.full_clean()
    with transaction.atomic():
        template.save()
        _replace_items(template, items)
        changes = diff(before, snapshot(template, TEMPLATE_FIELDS))
        after_items = _template_items(template)
        if after_items != before_items:
            changes["items"] = ["; ".join(before_items), "; ".join(after_items)]
        audit_changes(template, changes, user=user, action="folder_template.changed")
    return template


def folder_template_delete(*, template: FolderTemplate, user) -> None:
    audited_delete(
        template,
        user=user,
        action="folder_template.deleted",
        data={"message": template.name, "items": _template_items(template)},
    )
