"""Roles and what each may do.

Permissions are checked in views (and services where a write crosses apps); menus only
hide what a role cannot use, they never are the protection.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    BILLING = "billing", _("Billing")
    SALES = "sales", _("Sales")
    SUPPORT = "support", _("Support")
    READONLY = "readonly", _("Read-only")


# Every permission a view can ask for, with the roles that hold it.
PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset(Role.values),
    "organization.manage": frozenset({Role.ADMIN}),
    "users.manage": frozenset({Role.ADMIN}),
    "config.manage": frozenset({Role.ADMIN}),
    "customers.change": frozenset({Role.ADMIN, Role.BILLING, Role.SALES}),
    "customers.payment": frozenset({Role.ADMIN, Role.BILLING}),
    "notes.change": frozenset({Role.ADMIN, Role.BILLING, Role.SALES, Role.SUPPORT}),
    "catalog.change": frozenset({Role.ADMIN, Role.SALES}),
    "folders.change": frozenset({Role.ADMIN, Role.BILLING, Role.SALES}),
    "equipment.change": frozenset({Role.ADMIN, Role.BILLING, Role.SALES, Role.SUPPORT}),
    # A delivery date typed in by hand releases the hardware's invoice like a delivery
    # note does, so only those who invoice may record one; the others issue the note.
    "equipment.deliver": frozenset({Role.ADMIN, Role.BILLING}),
    "financing.change": frozenset({Role.ADMIN, Role.BILLING, Role.SALES}),
    "quotes.issue": frozenset({Role.ADMIN, Role.BILLING, Role.SALES}),
    "invoices.issue": frozenset({Role.ADMIN, Role.BILLING}),
    "delivery_notes.issue": frozenset({Role.ADMIN, Role.BILLING, Role.SALES, Role.SUPPORT}),
    "billing.run": frozenset({Role.ADMIN, Role.BILLING}),
    # Support tickets: open, reply, internal notes, assign, set status.
    "tickets.change": frozenset({Role.ADMIN, Role.BILLING, Role.SALES, Role.SUPPORT}),
    # Money: direct-debit batches, bank statements, payments, refunds and dunning.
    "payments.manage": frozenset({Role.ADMIN, Role.BILLING}),
}


def role_has(role: str | None, permission: str) -> bool:
    if role is None:
        return False
    try:
        return role in PERMISSIONS[permission]
    except KeyError:
        raise KeyError(f"Unknown permission {permission!r}") from None
