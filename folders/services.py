"""Writes to a folder itself: create (also from a standard installation), change, status
(activate, suspend, terminate), the customer's notice and the contract end.

Each service validates (full_clean), writes in one transaction and leaves an audit entry
with old and new values; changes to lines and equipment are filed under their folder
(`target=folder`) so the folder page shows one complete history (Verlauf).

The folder's lines are written in `lines.py`, their pieces in `equipment.py` and the
standard installations in `standard_installations.py`; their services can be imported
from here as well.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from catalog.models import Product, ProductKind
from customers.models import Customer
from organizations.audit import diff, snapshot
from organizations.models import Organization
from organizations.numbering import number_next
from organizations.services import organization_lock
from organizations.signals import billing_day_change_requested
from organizations.system_texts import system_text

from . import system_texts as _system_texts  # noqa: F401 - registers the codes used below
from . import terms
from .equipment import (
    EQUIPMENT_FIELDS,
    DuplicateSerialWarning,
    equipment_assign_serials,
    equipment_update,
    serial_duplicates,
)
from .lines import (
    ONEOFF_FIELDS,
    RECURRING_FIELDS,
    RECURRING_FIXED_AFTER_BILLING,
    oneoff_line_add,
    oneoff_line_delete,
    oneoff_line_update,
    oneoff_lines_mark_delivered,
    oneoff_lines_mark_invoiced,
    oneoff_lines_unmark_invoiced,
    package_line_data,
    recurring_line_add,
    recurring_line_change,
    recurring_line_delete,
    recurring_line_update,
)
from .models import Folder, FolderStatus, FolderTemplate
from .prefill import oneoff_line_prefill, recurring_line_prefill
from .service_kit import apply_fields, folder_log, local_today
from .standard_installations import (
    TEMPLATE_FIELDS,
    folder_template_create,
    folder_template_delete,
    folder_template_update,
)

__all__ = [
    "EQUIPMENT_FIELDS",
    "FOLDER_AUDIT",
    "FOLDER_FIELDS",
    "ONEOFF_FIELDS",
    "RECURRING_FIELDS",
    "RECURRING_FIXED_AFTER_BILLING",
    "TEMPLATE_FIELDS",
    "DuplicateSerialWarning",
    "billing_day_pin",
    "equipment_assign_serials",
    "equipment_update",
    "folder_activate",
    "folder_cancel",
    "folder_cancellation_withdraw",
    "folder_create",
    "folder_create_from_template",
    "folder_suspend",
    "folder_template_create",
    "folder_template_delete",
    "folder_template_update",
    "folder_terminate",
    "folder_update",
    "folders_refresh_contract_ends",
    "oneoff_line_add",
    "oneoff_line_delete",
    "oneoff_line_update",
    "oneoff_lines_mark_delivered",
    "oneoff_lines_mark_invoiced",
    "oneoff_lines_unmark_invoiced",
    "recurring_line_add",
    "recurring_line_change",
    "recurring_line_delete",
    "recurring_line_update",
    "serial_duplicates",
]

# Fields each service may set and the audit trail records (never ids or timestamps).
FOLDER_FIELDS = [
    "name",
    "notes",
    "delivery_name",
    "delivery_street",
    "delivery_postal_code",
    "delivery_city",
    "delivery_country",
    "start_date",
    "minimum_term_months",
    "notice_period_months",
    "auto_renew",
    "renewal_term_months",
    "end_date",
    "delivery_site",
    "payment_method",
    "billing_hold",
    "billing_hold_reason",
    "billing_hold_until",
    "billing_day",
    "next_billing_not_before",
    "owner",
    "auto_renewal_quote",
    "alert_days_before_end",
]
FOLDER_AUDIT = ["customer", "number", "status", *FOLDER_FIELDS, "cancellation_received_on"]


def _refresh_contract_end(folder: Folder, today: dt.date | None = None) -> None:
    folder.contract_end = folder.compute_contract_end(today or local_today())


def folder_create(*, organization: Organization, customer: Customer, user, data: dict[str, Any]) -> Folder:
    """A new draft folder under the END customer (or prospect); numbered per organization.

    The delivery address starts as the customer's address unless `data` gives one.
    """
    if customer.organization_id != organization.pk:
        raise ValidationError(_("The customer belongs to another organization."))
    folder = Folder(organization=organization, customer=customer, created_by=user, status=FolderStatus.DRAFT)
    apply_fields(folder, data, FOLDER_FIELDS)
    no_address = not any(data.get(f) for f in ("delivery_street", "delivery_postal_code", "delivery_city"))
    if no_address and "delivery_site" not in data:
        # The second deal of a customer goes where the first went: its default site.
        folder.delivery_site = customer.delivery_sites.filter(is_default=True).first()
    if folder.delivery_site is not None:
        _take_site_address(folder)
    elif no_address:
        folder.delivery_name = folder.delivery_name or customer.name
        folder.delivery_street = customer.street
        folder.delivery_postal_code = customer.postal_code
        folder.delivery_city = customer.city
        folder.delivery_country = customer.country or "DE"
    _check_owner(folder)
    folder.full_clean(exclude=["number"])
    _refresh_contract_end(folder)
    with transaction.atomic():
        folder.number = number_next(organization=organization, kind="folder")
        folder.full_clean()
        folder.save()
        folder_log(
            folder=folder, user=user, action="folder.created", data={"values": snapshot(folder, FOLDER_AUDIT)}
        )
    return folder


def _take_site_address(folder: Folder) -> None:
    """Copy the chosen site's address into the folder's own delivery fields (which the
    documents print); the site must be one of the folder's customer."""
    site = folder.delivery_site
    if site.customer_id != folder.customer_id:
        raise ValidationError({"delivery_site": _("Choose a delivery address of this folder's customer.")})
    for name, value in site.folder_address().items():
        setattr(folder, name, value)


def _check_owner(folder: Folder) -> None:
    if folder.owner_id is None:
        return
    from organizations.models import Membership

    if not Membership.objects.filter(
        organization_id=folder.organization_id, user_id=folder.owner_id
    ).exists():
        raise ValidationError({"owner": _("The account manager must be a member of this organization.")})


def _check_billing_day_kept(folder: Folder, new_day: int | None) -> None:
    """Periods of billed lines are aligned to the folder's billing day: another day would
    lay out periods that overlap the billed ones, so it is refused once a line is billed."""
    stored = Folder.objects.filter(pk=folder.pk).values_list("billing_day", flat=True).first()
    org_day = folder.organization.billing_day or 1
    if (new_day or org_day) == (stored or org_day):
        return
    # A run in progress may have planned this folder on the old day and not stored it yet
    # (billed_through below is still empty): the billing app refuses while one is active.
    organization_lock(organization=folder.organization)
    billing_day_change_requested.send(
        sender=Folder,
        organization=folder.organization,
        folder=folder,
        old_day=stored or org_day,
        new_day=new_day or org_day,
    )
    billed = folder.recurring_lines.filter(billed_through__isnull=False).order_by("-billed_through").first()
    if billed is not None:
        raise ValidationError(
            {
                "billing_day": _(
                    "The recurring lines of this folder are billed through %(date)s on their current "
                    "billing day; another day would bill days twice. To move a single billing, use "
                    "“%(field)s”."
                )
                % {
                    "date": date_format(billed.billed_through, "SHORT_DATE_FORMAT"),
                    "field": Folder._meta.get_field("next_billing_not_before").verbose_name,
                }
            }
        )


def folder_update(*, folder: Folder, user, data: dict[str, Any]) -> Folder:
    with transaction.atomic():
        # One transaction with the billing-day check: its lock holds until the day is saved.
        if "billing_day" in data:
            _check_billing_day_kept(folder, data["billing_day"])
        return _folder_update(folder=folder, user=user, data=data)


def _folder_update(*, folder: Folder, user, data: dict[str, Any]) -> Folder:
    before = snapshot(folder, FOLDER_AUDIT)
    previous_site = folder.delivery_site_id
    apply_fields(folder, data, FOLDER_FIELDS)
    if folder.delivery_site_id is not None and folder.delivery_site_id != previous_site:
        _take_site_address(folder)
    if not folder.billing_hold:
        folder.billing_hold_reason = ""
        folder.billing_hold_until = None
    _check_owner(folder)
    folder.full_clean()
    _refresh_contract_end(folder)
    with transaction.atomic():
        # Only the editable fields: a stale instance must never write back an old status.
        folder.save(update_fields=[*FOLDER_FIELDS, "contract_end", "updated_at"])
        changes = diff(before, snapshot(folder, FOLDER_AUDIT))
        if changes:
            folder_log(folder=folder, user=user, action="folder.changed", data={"changes": changes})
    return folder


def _set_status(
    folder: Folder, *, user, status: str, action: str, extra: dict[str, Any] | None = None
) -> Folder:
    before = snapshot(folder, FOLDER_AUDIT)
    folder.status = status
    folder.full_clean()
    _refresh_contract_end(folder)
    folder.save(
        update_fields=["status", "start_date", "activated_at", "end_date", "contract_end", "updated_at"]
    )
    data = {"changes": diff(before, snapshot(folder, FOLDER_AUDIT))}
    data.update(extra or {})
    folder_log(folder=folder, user=user, action=action, data=data)
    return folder


def folder_activate(*, folder: Folder, user) -> Folder:
    """Draft or suspended -> active. Activating a prospect's folder converts the prospect
    into a customer (same record, customers.services.prospect_convert)."""
    if folder.status not in (FolderStatus.DRAFT, FolderStatus.SUSPENDED):
        raise ValidationError(
            _("Folder %(number)s cannot be activated from status “%(status)s”.")
            % {"number": folder.number, "status": folder.get_status_display()}
        )
    # Imported here: customers must not be loaded by folders at import time for this
    # one call, and this keeps the dependency visible where it is used.
    from customers.services import prospect_convert

    with transaction.atomic():
        folder = Folder.objects.select_for_update().select_related("customer").get(pk=folder.pk)
        if folder.start_date is None:
            folder.start_date = local_today()
        if folder.activated_at is None:
            folder.activated_at = timezone.now()
        converted = False
        if folder.customer.is_prospect:
            prospect_convert(customer=folder.customer, user=user)
            folder.customer.refresh_from_db()
            converted = True
        _set_status(
            folder,
            user=user,
            status=FolderStatus.ACTIVE,
            action="folder.activated",
            extra={"message": system_text("folders.prospect_converted")} if converted else None,
        )
    return folder


def folder_suspend(*, folder: Folder, user, reason: str = "") -> Folder:
    if folder.status != FolderStatus.ACTIVE:
        raise ValidationError(_("Only an active folder can be suspended."))
    with transaction.atomic():
        return _set_status(
            folder,
            user=user,
            status=FolderStatus.SUSPENDED,
            action="folder.suspended",
            extra={"message": reason},
        )


def folder_terminate(*, folder: Folder, user, end_date: dt.date | None = None) -> Folder:
    """Ends the folder. Without an end date a started folder ends today (or on its
    existing earlier end date); a never-activated draft simply closes."""
    if folder.status == FolderStatus.TERMINATED:
        raise ValidationError(_("Folder %(number)s is already terminated.") % {"number": folder.number})
    if end_date is not None:
        if folder.start_date and end_date < folder.start_date:
            raise ValidationError({"end_date": _("The end date cannot be before the start date.")})
        folder.end_date = end_date
    elif folder.activated_at is not None and folder.start_date is not None:
        today = max(local_today(), folder.start_date)
        if folder.end_date is None or folder.end_date > today:
            folder.end_date = today
    with transaction.atomic():
        return _set_status(folder, user=user, status=FolderStatus.TERMINATED, action="folder.terminated")


def folder_cancel(*, folder: Folder, user, notice_received_on: dt.date) -> Folder:
    """Record the customer's notice; the end date follows from the contract terms
    (folders.terms.earliest_cancellation_end)."""
    if folder.status == FolderStatus.TERMINATED:
        raise ValidationError(_("Folder %(number)s is already terminated.") % {"number": folder.number})
    if folder.start_date is None:
        raise ValidationError(_("Set the folder's start date before recording a cancellation."))
    if notice_received_on < folder.start_date:
        raise ValidationError({"notice_received_on": _("Notice cannot be received before the start date.")})
    end = terms.earliest_cancellation_end(
        folder.start_date,
        folder.minimum_term_months,
        folder.notice_period_months,
        folder.auto_renew,
        folder.renewal_term_months,
        notice_received_on,
    )
    before = snapshot(folder, FOLDER_AUDIT)
    folder.cancellation_received_on = notice_received_on
    folder.end_date = end
    folder.full_clean()
    return _save_notice(folder, user=user, action="folder.cancelled", before=before)


def folder_cancellation_withdraw(*, folder: Folder, user) -> Folder:
    if folder.cancellation_received_on is None:
        raise ValidationError(_("No cancellation is recorded for this folder."))
    before = snapshot(folder, FOLDER_AUDIT)
    folder.cancellation_received_on = None
    folder.end_date = None
    return _save_notice(folder, user=user, action="folder.cancellation_withdrawn", before=before)


def _save_notice(folder: Folder, *, user, action: str, before: dict[str, Any]) -> Folder:
    """Store a recorded or withdrawn notice: its date, the end date and the contract end
    they give, with the entry that shows the change."""
    _refresh_contract_end(folder)
    with transaction.atomic():
        folder.save(update_fields=["cancellation_received_on", "end_date", "contract_end", "updated_at"])
        folder_log(
            folder=folder,
            user=user,
            action=action,
            data={"changes": diff(before, snapshot(folder, FOLDER_AUDIT))},
        )
    return folder


def folders_refresh_contract_ends(*, organization: Organization, today: dt.date | None = None) -> int:
    """Roll `contract_end` forward for automatically renewed folders whose stored term
    has passed. Run daily (billing schedules it); returns the number of folders updated."""
    today = today or local_today()
    stale = Folder.objects.filter(
        organization=organization, auto_renew=True, end_date__isnull=True, contract_end__lt=today
    ).exclude(status=FolderStatus.TERMINATED)
    batch: list[Folder] = []
    count = 0
    for folder in stale.only(
        "id",
        "start_date",
        "minimum_term_months",
        "renewal_term_months",
        "auto_renew",
        "end_date",
        "contract_end",
    ).iterator(chunk_size=2000):
        folder.contract_end = folder.compute_contract_end(today)
        batch.append(folder)
        if len(batch) >= 2000:
            count += Folder.objects.bulk_update(batch, ["contract_end"])
            batch = []
    if batch:
        count += Folder.objects.bulk_update(batch, ["contract_end"])
    return count


# --- standard installations -------------------------------------------------------------


def folder_create_from_template(
    *,
    organization: Organization,
    customer: Customer,
    template: FolderTemplate,
    user,
    data: dict[str, Any] | None = None,
) -> Folder:
    """One step: a folder for `customer` with the template's products as lines (one-off
    products as one-off lines, recurring ones as recurring lines, plus the offered
    service packages where the item asks for them)."""
    if template.organization_id != organization.pk:
        raise ValidationError(_("The standard installation belongs to another organization."))
    data = dict(data or {})
    data.setdefault("name", template.name)
    with transaction.atomic():
        folder = folder_create(organization=organization, customer=customer, user=user, data=data)
        for item in template.items.select_related("product__tax_rate", "product__service_package__tax_rate"):
            product: Product = item.product
            if product.kind == ProductKind.RECURRING:
                values = _resolve(recurring_line_prefill(product), product)
                values["quantity"] = item.quantity
                values["start_date"] = folder.start_date or local_today()
                recurring_line_add(folder=folder, user=user, data=values)
                pieces = int(item.quantity)
            else:
                values = _resolve(oneoff_line_prefill(product), product)
                values["quantity"] = item.quantity
                line = oneoff_line_add(folder=folder, user=user, data=values)
                pieces = line.pieces or int(item.quantity)
            if (
                item.include_service_package
                and product.service_package_id
                and product.service_package.is_active
            ):
                recurring_line_add(
                    folder=folder,
                    user=user,
                    data=package_line_data(product.service_package, pieces=pieces, start=folder.start_date),
                )
        folder_log(
            folder=folder, user=user, action="folder.created_from_template", data={"message": template.name}
        )
    return folder


def _resolve(values: dict[str, Any], product: Product) -> dict[str, Any]:
    """Pre-fill dicts carry ids; services take model instances."""
    values = dict(values)
    values["product"] = product
    values["tax_rate"] = product.tax_rate
    values.pop("service_package", None)
    return values


# --- billing day --------------------------------------------------------------------------


def billing_day_pin(*, organization: Organization, old_day: int, user=None, **kwargs) -> int:
    """The organization's billing day changed: folders that follow it and have billed lines
    keep the old day (their periods are laid out on it; another day would bill days twice).
    New folders, and folders not billed yet, follow the new day."""
    folders = list(
        Folder.objects.filter(organization=organization, billing_day__isnull=True)
        .filter(recurring_lines__billed_through__isnull=False)
        .distinct()
    )
    if not folders:
        return 0
    Folder.objects.filter(pk__in=[f.pk for f in folders]).update(
        billing_day=old_day, updated_at=timezone.now()
    )
    for folder in folders:
        folder_log(
            folder=folder,
            user=user,
            action="folder.changed",
            data={
                "changes": {"billing_day": [None, old_day]},
                "message": system_text("folders.billing_day_kept", day=old_day),
            },
        )
    return len(folders)
