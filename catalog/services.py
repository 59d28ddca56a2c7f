"""Writes of the catalog: tax rates, products, service packages and their entitlements.

Every function validates with full_clean(), writes inside one transaction and leaves an
audit entry with the old and new values.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from organizations.audit import audit_changes, audit_log, audited_delete, diff, snapshot
from organizations.models import Organization

from .models import Entitlement, Product, ServicePackage, TaxRate


def _apply(obj, data: dict[str, Any]) -> None:
    for key, value in data.items():
        setattr(obj, key, value)


def _log_created(obj, *, user, action: str, extra: dict[str, Any] | None = None) -> None:
    audit_log(
        organization=obj.organization,
        user=user,
        action=action,
        obj=obj,
        data={"values": snapshot(obj), **(extra or {})},
    )


def _delete(obj, *, user, action: str, in_use_message: str) -> None:
    label = str(obj)
    try:
        audited_delete(obj, user=user, action=action, data={"message": label, "values": snapshot(obj)})
    except ProtectedError:
        raise ValidationError(in_use_message % {"name": label})


# --- tax rates -----------------------------------------------------------------------


def _clear_other_defaults(tax_rate: TaxRate) -> None:
    if tax_rate.is_default:
        others = TaxRate.objects.filter(organization=tax_rate.organization, is_default=True)
        if tax_rate.pk:
            others = others.exclude(pk=tax_rate.pk)
        others.update(is_default=False)


def tax_rate_create(*, organization: Organization, user, data: dict[str, Any]) -> TaxRate:
    tax_rate = TaxRate(organization=organization)
    _apply(tax_rate, data)
    with transaction.atomic():
        # A new default replaces the old one (the database allows only one per organization).
        _clear_other_defaults(tax_rate)
        tax_rate.full_clean()
        tax_rate.save()
        _log_created(tax_rate, user=user, action="tax_rate.created")
    return tax_rate


def tax_rate_update(*, tax_rate: TaxRate, user, data: dict[str, Any]) -> TaxRate:
    before = snapshot(tax_rate)
    _apply(tax_rate, data)
    with transaction.atomic():
        _clear_other_defaults(tax_rate)
        tax_rate.full_clean()
        tax_rate.save()
        changes = diff(before, snapshot(tax_rate))
        audit_changes(tax_rate, changes, user=user, action="tax_rate.changed")
    return tax_rate


def tax_rate_delete(*, tax_rate: TaxRate, user) -> None:
    _delete(
        tax_rate,
        user=user,
        action="tax_rate.deleted",
        in_use_message=_("The tax rate “%(name)s” is in use and cannot be deleted; deactivate it instead."),
    )


def tax_rate_default(*, organization: Organization) -> TaxRate | None:
    """The rate new products and lines start with: the flagged default, else the highest."""
    rates = TaxRate.objects.filter(organization=organization, is_active=True)
    return rates.filter(is_default=True).first() or rates.order_by("-rate").first()


# --- products ------------------------------------------------------------------------


def product_create(*, organization: Organization, user, data: dict[str, Any]) -> Product:
    product = Product(organization=organization)
    _apply(product, data)
    product.full_clean()
    with transaction.atomic():
        product.save()
        _log_created(product, user=user, action="product.created")
    return product


def product_update(*, product: Product, user, data: dict[str, Any]) -> Product:
    before = snapshot(product)
    _apply(product, data)
    product.full_clean()
    with transaction.atomic():
        product.save()
        changes = diff(before, snapshot(product))
        audit_changes(product, changes, user=user, action="product.changed")
    return product


def product_delete(*, product: Product, user) -> None:
    _delete(
        product,
        user=user,
        action="product.deleted",
        in_use_message=_(
            "The product “%(name)s” is used in folders and cannot be deleted; deactivate it instead."
        ),
    )


# --- service packages ------------------------------------------------------------------

ENTITLEMENT_FIELDS = ["kind", "coverage", "discount_percent", "response_hours", "scope", "service_partner"]


def _entitlement_rows(package: ServicePackage) -> list[str]:
    rows = []
    for e in package.entitlements.all():
        text = f"{e.get_kind_display()}: {e.get_coverage_display()}"
        if e.discount_percent:
            text += f" {e.discount_percent} %"
        if e.response_hours:
            text += f", {e.response_hours} h"
        text += f", {e.get_scope_display()}"
        if e.service_partner:
            text += f", {e.service_partner}"
        rows.append(text)
    return rows


def _replace_entitlements(package: ServicePackage, entitlements: list[dict[str, Any]]) -> None:
    """Entitlements are owned by their package and referenced by nothing else, so an
    edit replaces the whole set (the audit entry keeps the before/after lists)."""
    objs = []
    for row in entitlements:
        entitlement = Entitlement(organization=package.organization, package=package)
        _apply(entitlement, {k: row.get(k) for k in ENTITLEMENT_FIELDS if k in row})
        if entitlement.coverage != "discounted":
            entitlement.discount_percent = None
        entitlement.service_partner = entitlement.service_partner or ""
        entitlement.full_clean(exclude=["package"])
        objs.append(entitlement)
    package.entitlements.all().delete()
    for entitlement in objs:
        entitlement.save()


def service_package_create(
    *, organization: Organization, user, data: dict[str, Any], entitlements: list[dict[str, Any]]
) -> ServicePackage:
    package = ServicePackage(organization=organization)
    _apply(package, data)
    package.full_clean()
    with transaction.atomic():
        package.save()
        _replace_entitlements(package, entitlements)
        _log_created(
            package,
            user=user,
            action="service_package.created",
            extra={"entitlements": _entitlement_rows(package)},
        )
    return package


def service_package_update(
    *, package: ServicePackage, user, data: dict[str, Any], entitlements: list[dict[str, Any]]
) -> ServicePackage:
    before = snapshot(package)
    before_rows = _entitlement_rows(package)
    _apply(package, data)
    package.full_clean()
    with transaction.atomic():
        package.save()
        _replace_entitlements(package, entitlements)
        changes = diff(before, snapshot(package))
        after_rows = _entitlement_rows(package)
        if after_rows != before_rows:
            changes["entitlements"] = ["; ".join(before_rows), "; ".join(after_rows)]
        audit_changes(package, changes, user=user, action="service_package.changed")
    return package


def service_package_delete(*, package: ServicePackage, user) -> None:
    _delete(
        package,
        user=user,
        action="service_package.deleted",
        in_use_message=_(
            "The service package “%(name)s” is used in folders and cannot be deleted; deactivate it instead."
        ),
    )
