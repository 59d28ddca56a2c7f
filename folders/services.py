"""Every write to folders, their lines, equipment and templates.

Each service validates (full_clean), writes in one transaction and leaves an audit entry
with old and new values; changes to lines and equipment are filed under their folder
(`target=folder`) so the folder page shows one complete history (Verlauf).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from catalog.models import Product, ProductKind, Scope, ServicePackage
from customers.models import Customer
from organizations.audit import audit_entry, audit_log, diff, snapshot
from organizations.models import AuditEntry, Organization
from organizations.numbering import number_next
from organizations.services import organization_lock
from organizations.signals import billing_day_change_requested
from organizations.system_texts import system_text

from . import system_texts as _system_texts  # noqa: F401 - registers the codes used below
from . import terms
from .models import (
    MAX_EQUIPMENT_PIECES,
    Equipment,
    Folder,
    FolderStatus,
    FolderTemplate,
    FolderTemplateItem,
    OneOffLine,
    RecurringLine,
    RecurringLineChange,
)
from .prefill import oneoff_line_prefill, package_line_prefill, recurring_line_prefill

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
ONEOFF_FIELDS = [
    "product",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "discount_percent",
    "tax_rate",
    "is_equipment",
]
RECURRING_FIELDS = [
    "product",
    "service_package",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "cycle",
    "timing",
    "start_date",
    "end_date",
    "trial_end",
    "setup_fee",
    "tax_rate",
]
# Once a recurring line has been billed these define what was billed; changing them
# would rewrite history, so they are refused (quantity/price change by version instead).
RECURRING_FIXED_AFTER_BILLING = [
    "start_date",
    "cycle",
    "timing",
    "trial_end",
    "setup_fee",
    "product",
    "service_package",
]
EQUIPMENT_FIELDS = ["serial_number", "model_number", "warranty_end", "delivered_on"]


class DuplicateSerialWarning(ValidationError):
    """A serial number already exists for the same product in the organization.

    Raised unless the caller passes `confirm_duplicates=True` (the "save anyway" box):
    two pieces with one serial number are usually a typo, but refurbished devices and
    manufacturer mistakes exist.
    """

    def __init__(self, conflicts: list[dict[str, Any]]):
        self.conflicts = conflicts
        serials = ", ".join(sorted({c["serial_number"] for c in conflicts}))
        super().__init__(
            _(
                "Serial number already recorded for this product: %(serials)s. Check it, or tick “save anyway”."
            )
            % {"serials": serials},
            code="duplicate_serial",
        )


def _today() -> dt.date:
    return timezone.localdate()


def _apply(obj, data: dict[str, Any], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    for key, value in data.items():
        if key in allowed:
            setattr(obj, key, value)


def _log(*, folder: Folder, user, action: str, obj=None, data: dict[str, Any] | None = None) -> None:
    audit_log(
        organization=folder.organization,
        user=user,
        action=action,
        obj=obj or folder,
        target=folder if obj is not None else None,
        data=data,
    )


def _check_open(folder: Folder) -> None:
    if folder.status == FolderStatus.TERMINATED:
        raise ValidationError(
            _("Folder %(number)s is terminated; its lines cannot be changed.") % {"number": folder.number}
        )


def _refresh_contract_end(folder: Folder, today: dt.date | None = None) -> None:
    folder.contract_end = folder.compute_contract_end(today or _today())


# --- folders -------------------------------------------------------------------------


def folder_create(*, organization: Organization, customer: Customer, user, data: dict[str, Any]) -> Folder:
    """A new draft folder under the END customer (or prospect); numbered per organization.

    The delivery address starts as the customer's address unless `data` gives one.
    """
    if customer.organization_id != organization.pk:
        raise ValidationError(_("The customer belongs to another organization."))
    folder = Folder(organization=organization, customer=customer, created_by=user, status=FolderStatus.DRAFT)
    _apply(folder, data, FOLDER_FIELDS)
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
        _log(
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
    _apply(folder, data, FOLDER_FIELDS)
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
            _log(folder=folder, user=user, action="folder.changed", data={"changes": changes})
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
    _log(folder=folder, user=user, action=action, data=data)
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
            folder.start_date = _today()
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
        today = max(_today(), folder.start_date)
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
    _refresh_contract_end(folder)
    with transaction.atomic():
        folder.save(update_fields=["cancellation_received_on", "end_date", "contract_end", "updated_at"])
        _log(
            folder=folder,
            user=user,
            action="folder.cancelled",
            data={"changes": diff(before, snapshot(folder, FOLDER_AUDIT))},
        )
    return folder


def folder_cancellation_withdraw(*, folder: Folder, user) -> Folder:
    if folder.cancellation_received_on is None:
        raise ValidationError(_("No cancellation is recorded for this folder."))
    before = snapshot(folder, FOLDER_AUDIT)
    folder.cancellation_received_on = None
    folder.end_date = None
    _refresh_contract_end(folder)
    with transaction.atomic():
        folder.save(update_fields=["cancellation_received_on", "end_date", "contract_end", "updated_at"])
        _log(
            folder=folder,
            user=user,
            action="folder.cancellation_withdrawn",
            data={"changes": diff(before, snapshot(folder, FOLDER_AUDIT))},
        )
    return folder


def folders_refresh_contract_ends(*, organization: Organization, today: dt.date | None = None) -> int:
    """Roll `contract_end` forward for automatically renewed folders whose stored term
    has passed. Run daily (billing schedules it); returns the number of folders updated."""
    today = today or _today()
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


# --- one-off lines -------------------------------------------------------------------


def _next_position(qs) -> int:
    return (qs.aggregate(m=Max("position"))["m"] or 0) + 1


def _line_label(line) -> str:
    return str(line)


def oneoff_line_add(
    *,
    folder: Folder,
    user,
    data: dict[str, Any],
    add_service_package: bool = False,
) -> OneOffLine:
    """Add a one-off line (equipment lines get one Equipment row per piece). With
    `add_service_package` the product's offered maintenance package is added as a
    recurring line in the same transaction."""
    _check_open(folder)
    line = OneOffLine(organization=folder.organization, folder=folder)
    _apply(line, data, ONEOFF_FIELDS)
    _check_tenant(line, folder)
    line.full_clean(exclude=["folder"])
    with transaction.atomic():
        line.position = _next_position(folder.oneoff_lines.all())
        line.save()
        _sync_equipment(line)
        _log(
            folder=folder,
            user=user,
            action="oneoff_line.added",
            obj=line,
            data={"values": snapshot(line, ONEOFF_FIELDS)},
        )
        if add_service_package and line.product_id and line.product.service_package_id:
            package = line.product.service_package
            recurring_line_add(
                folder=folder,
                user=user,
                data=_package_data(
                    package, pieces=line.pieces or int(line.quantity), start=folder.start_date
                ),
            )
    return line


def _check_tenant(line, folder: Folder) -> None:
    """Catalog rows referenced by a line must be the folder's organization's."""
    org = folder.organization_id
    for name in ("product", "tax_rate", "service_package"):
        related_id = getattr(line, f"{name}_id", None)
        if related_id is not None and getattr(line, name).organization_id != org:
            raise ValidationError({name: _("Choose an entry of this organization.")})


def _package_data(package: ServicePackage, *, pieces: int, start: dt.date | None) -> dict[str, Any]:
    per_device = package.entitlements.filter(scope=Scope.PER_DEVICE).exists()
    data = package_line_prefill(package, pieces=pieces, per_device=per_device)
    data["service_package"] = package
    data["product"] = None
    data["tax_rate"] = package.tax_rate
    data["start_date"] = start or _today()
    return data


def _lock_invoice_state(line: OneOffLine) -> None:
    """Lock the line's row and take what invoiced or delivered it from the database (a run
    may have invoiced it since this instance was read; see `_lock_billing_state`)."""
    state = (
        OneOffLine.objects.select_for_update()
        .filter(pk=line.pk)
        .values(
            "invoice_document_id",
            "invoice_number",
            "invoiced_on",
            "delivery_document_id",
            "delivery_note_number",
        )
        .first()
    )
    if state is None:
        raise ValidationError(_("This line was deleted in the meantime."))
    for name, value in state.items():
        setattr(line, name, value)


def oneoff_line_update(*, line: OneOffLine, user, data: dict[str, Any]) -> OneOffLine:
    """Change a line. An invoiced line is frozen (the invoice is a record); equipment
    pieces follow the quantity, and pieces that carry data are never dropped silently."""
    folder = line.folder
    _check_open(folder)
    before = snapshot(line, ONEOFF_FIELDS)
    _apply(line, data, ONEOFF_FIELDS)
    after = snapshot(line, ONEOFF_FIELDS)
    changes = diff(before, after)
    if not changes:
        return line
    with transaction.atomic():
        _lock_invoice_state(line)
        if line.is_invoiced:
            raise ValidationError(
                _(
                    "This line was invoiced on %(number)s and cannot be changed; correct it with a credit note."
                )
                % {"number": line.invoice_number or line.invoice_document_id}
            )
        _check_tenant(line, folder)
        line.full_clean()
        # Only what changed: the invoice fields belong to the run that invoices the line.
        line.save(update_fields=[*changes, "updated_at"])
        _sync_equipment(line)
        _log(folder=folder, user=user, action="oneoff_line.changed", obj=line, data={"changes": changes})
    return line


def oneoff_line_delete(*, line: OneOffLine, user) -> None:
    folder = line.folder
    _check_open(folder)
    with transaction.atomic():
        _lock_invoice_state(line)
        if line.is_invoiced:
            raise ValidationError(
                _("This line was invoiced on %(number)s and cannot be deleted.")
                % {"number": line.invoice_number or line.invoice_document_id}
            )
        if line.delivery_document_id is not None:
            raise ValidationError(
                _("This line is on delivery note %(number)s and cannot be deleted.")
                % {"number": line.delivery_note_number or line.delivery_document_id}
            )
        values = snapshot(line, ONEOFF_FIELDS)
        serials = [e.serial_number for e in line.equipment.all() if e.serial_number]
        if serials:
            values["serial_numbers"] = ", ".join(serials)
        _log(folder=folder, user=user, action="oneoff_line.deleted", obj=line, data={"values": values})
        line.delete()


def _piece_has_data(piece: Equipment) -> bool:
    # The model number is pre-filled from the product; what a clerk records is the rest.
    return bool(piece.serial_number or piece.warranty_end or piece.delivered_on)


def _sync_equipment(line: OneOffLine) -> None:
    """Make the line's Equipment rows match its quantity (one per piece).

    When the quantity drops, empty pieces are removed first; if more pieces carry data
    (serial number, dates) than the new quantity allows, the change is refused so that
    no recorded serial number disappears without a trace.
    """
    wanted = line.pieces
    if wanted > MAX_EQUIPMENT_PIECES:
        raise ValidationError(
            {"quantity": _("At most %(max)s pieces per equipment line.") % {"max": MAX_EQUIPMENT_PIECES}}
        )
    pieces = list(Equipment.objects.filter(line=line).order_by("piece"))
    if len(pieces) == wanted:
        return
    if len(pieces) < wanted:
        model_number = line.product.model_number if line.product_id else ""
        start = pieces[-1].piece if pieces else 0
        Equipment.objects.bulk_create(
            [
                Equipment(
                    organization_id=line.organization_id,
                    line=line,
                    piece=start + i + 1,
                    model_number=model_number,
                )
                for i in range(wanted - len(pieces))
            ]
        )
        return
    with_data = [p for p in pieces if _piece_has_data(p)]
    if len(with_data) > wanted:
        raise ValidationError(
            {
                "quantity": _(
                    "%(count)s pieces of this line carry serial numbers or dates; clear the pieces to remove "
                    "before lowering the quantity to %(wanted)s."
                )
                % {"count": len(with_data), "wanted": wanted}
            }
        )
    empty = [p for p in pieces if not _piece_has_data(p)]
    keep_empty = empty[: wanted - len(with_data)]
    keep = sorted(with_data + keep_empty, key=lambda p: p.piece)
    keep_ids = {p.pk for p in keep}
    Equipment.objects.filter(line=line).exclude(pk__in=keep_ids).delete()
    for number, piece in enumerate(keep, start=1):
        if piece.piece != number:
            piece.piece = number
            piece.save(update_fields=["piece", "updated_at"])


def oneoff_lines_mark_invoiced(*, lines: Iterable[OneOffLine], document, user=None) -> int:
    """Called by the documents app when it issues an invoice for these lines: stores the
    document's id, number and date on each line (plain fields; folders cannot import
    documents). `document` needs `pk`, `number` and `issue_date` (or `issued_on`).

    One conditional UPDATE marks them all: a line that another invoice took meanwhile
    (another user, another run) is not overwritten, and the whole call is refused."""
    lines = list(lines)
    if not lines:
        return 0
    issued = getattr(document, "issue_date", None) or getattr(document, "issued_on", None) or _today()
    number = document.number or ""

    def _refuse(line: OneOffLine):
        return ValidationError(
            _("Line “%(line)s” was already invoiced on %(number)s.")
            % {"line": line, "number": line.invoice_number}
        )

    for line in lines:
        if line.invoice_document_id not in (None, document.pk):
            raise _refuse(line)
    ids = [line.pk for line in lines]
    with transaction.atomic():
        updated = (
            OneOffLine.objects.filter(pk__in=ids)
            .filter(Q(invoice_document_id__isnull=True) | Q(invoice_document_id=document.pk))
            .update(
                invoice_document_id=document.pk,
                invoice_number=number,
                invoiced_on=issued,
                updated_at=timezone.now(),
            )
        )
        if updated != len(ids):
            raise _refuse(
                OneOffLine.objects.exclude(invoice_document_id=document.pk).filter(pk__in=ids).first()
            )
        entries = [
            audit_entry(
                organization=None,
                user=user,
                action="oneoff_line.invoiced",
                obj=line,
                target=line.folder,
                data={"message": str(document.number or document.pk)},
            )
            for line in lines
        ]
        for entry, line in zip(entries, lines, strict=True):
            entry.organization_id = line.organization_id
        AuditEntry.objects.bulk_create(entries)
    for line in lines:
        line.invoice_document_id, line.invoice_number, line.invoiced_on = document.pk, number, issued
    return len(lines)


def oneoff_lines_unmark_invoiced(*, document_id: int, user=None) -> int:
    """Release the lines of a cancelled invoice (after its cancellation credit note) so
    they can be invoiced again."""
    count = 0
    with transaction.atomic():
        for line in OneOffLine.objects.filter(invoice_document_id=document_id).select_related("folder"):
            number = line.invoice_number
            line.invoice_document_id = None
            line.invoice_number = ""
            line.invoiced_on = None
            line.save(update_fields=["invoice_document_id", "invoice_number", "invoiced_on", "updated_at"])
            _log(
                folder=line.folder,
                user=user,
                action="oneoff_line.invoice_cancelled",
                obj=line,
                data={"message": number},
            )
            count += 1
    return count


def oneoff_lines_mark_delivered(
    *, lines: Iterable[OneOffLine], document, user=None, delivered_on: dt.date | None = None
) -> int:
    """Called by the documents app for a delivery note: stores its id, number and date on
    each line and sets the delivery date of pieces that have none yet."""
    day = (
        delivered_on
        or getattr(document, "issue_date", None)
        or getattr(document, "issued_on", None)
        or _today()
    )
    count = 0
    with transaction.atomic():
        for line in lines:
            line.delivery_document_id = document.pk
            line.delivery_note_number = document.number or ""
            line.delivered_on = day
            line.save(
                update_fields=["delivery_document_id", "delivery_note_number", "delivered_on", "updated_at"]
            )
            for piece in line.equipment.filter(delivered_on__isnull=True):
                piece.delivered_on = day
                _default_warranty(piece, line)
                piece.save(update_fields=["delivered_on", "warranty_end", "updated_at"])
            _log(
                folder=line.folder,
                user=user,
                action="oneoff_line.delivered",
                obj=line,
                data={"message": str(document.number or document.pk)},
            )
            count += 1
    return count


# --- equipment -----------------------------------------------------------------------


def _default_warranty(piece: Equipment, line: OneOffLine) -> None:
    """Warranty end = delivery date + the product's warranty months (if not entered)."""
    if piece.warranty_end is None and piece.delivered_on and line.product_id and line.product.warranty_months:
        piece.warranty_end = terms.term_end(piece.delivered_on, line.product.warranty_months)


def serial_duplicates(
    *, organization_id: int, product_id: int | None, serials: Iterable[str], exclude_ids: Iterable[int] = ()
) -> list[dict[str, Any]]:
    """Pieces of the same product (or, for lines without a product, of other lines
    without one) that already carry one of `serials` (case-insensitive)."""
    wanted = {s.strip().upper() for s in serials if s and s.strip()}
    if not wanted:
        return []
    query = Q()
    for serial in wanted:
        query |= Q(serial_number__iexact=serial)
    qs = (
        Equipment.objects.filter(query, organization_id=organization_id)
        .exclude(pk__in=list(exclude_ids))
        .select_related("line__folder__customer")
    )
    qs = qs.filter(line__product_id=product_id) if product_id else qs.filter(line__product__isnull=True)
    return [
        {
            "serial_number": e.serial_number,
            "folder": e.line.folder.number,
            "customer": e.line.folder.customer.name,
            "equipment_id": e.pk,
        }
        for e in qs
    ]


def equipment_update(
    *,
    line: OneOffLine,
    user,
    rows: Iterable[dict[str, Any]] = (),
    serials: Iterable[str] = (),
    confirm_duplicates: bool = False,
    may_record_delivery: bool = True,
) -> list[Equipment]:
    """Save serial number, model number, warranty end and delivery date of a line's
    pieces in one go. `rows` are dicts with the piece's `id` and the fields to set;
    `serials` (pasted, e.g. from a scanner) then fill the pieces still without one.

    Refused, nothing saved: a piece of another line; more serial numbers than pieces
    without one; a warranty ending before delivery; a serial number used twice for the
    same product in the organization - unless `confirm_duplicates` ("save anyway");
    a delivery date typed in without `may_record_delivery` (the role "equipment.deliver":
    the date releases the invoice, so without a delivery note only the people who
    invoice may state it); a changed delivery date of an invoiced line (the invoice states it
    as the date of supply).
    """
    folder = line.folder
    pieces = {p.pk: p for p in Equipment.objects.filter(line=line).order_by("piece")}
    before = {pk: snapshot(p, EQUIPMENT_FIELDS) for pk, p in pieces.items()}
    for row in rows:
        piece = pieces.get(row.get("id"))
        if piece is None:
            raise ValidationError(_("A piece does not belong to this line."))
        for name in EQUIPMENT_FIELDS:
            if name in row:
                value = row[name]
                if isinstance(value, str):
                    value = value.strip()
                if value is None and name not in ("warranty_end", "delivered_on"):
                    value = ""
                setattr(piece, name, value)

    serials = [s.strip() for s in serials if s and s.strip()]
    if serials:
        free = [p for p in pieces.values() if not p.serial_number]
        if len(serials) > len(free):
            raise ValidationError(
                {
                    "serials": _(
                        "%(count)s serial numbers entered, but only %(free)s of the line's %(pieces)s pieces "
                        "have none yet."
                    )
                    % {"count": len(serials), "free": len(free), "pieces": len(pieces)}
                }
            )
        for piece, serial in zip(free, serials, strict=False):
            piece.serial_number = serial

    errors: list[str] = []
    changed: list[tuple[Equipment, dict[str, list[Any]]]] = []
    for pk, piece in pieces.items():
        if snapshot(piece, ["delivered_on"])["delivered_on"] != before[pk]["delivered_on"]:
            # A first date after an advance invoice is the delivery it announced.
            if line.is_invoiced and before[pk]["delivered_on"] is not None:
                errors.append(
                    _(
                        "Piece %(piece)s: the delivery date is the date of supply on invoice %(number)s and "
                        "cannot be changed."
                    )
                    % {"piece": piece.piece, "number": line.invoice_number}
                )
            elif not may_record_delivery:
                errors.append(
                    _(
                        "Piece %(piece)s: your role may not record a delivery date; issue a delivery note "
                        "instead."
                    )
                    % {"piece": piece.piece}
                )
        _default_warranty(piece, line)
        if piece.warranty_end and piece.delivered_on and piece.warranty_end < piece.delivered_on:
            errors.append(
                _("Piece %(piece)s: the warranty cannot end before delivery.") % {"piece": piece.piece}
            )
        try:
            piece.full_clean(exclude=["line"])
        except ValidationError as exc:
            errors.extend(f"{piece.piece}: {m}" for m in exc.messages)
        change = diff(before[pk], snapshot(piece, EQUIPMENT_FIELDS))
        if change:
            changed.append((piece, change))
    if errors:
        raise ValidationError(errors)
    if not changed:
        return list(pieces.values())

    # Duplicates: typos inside the line as well as serial numbers recorded elsewhere.
    conflicts: list[dict[str, Any]] = []
    seen: set[str] = set()
    for piece in pieces.values():
        key = piece.serial_number.strip().upper()
        if key and key in seen:
            conflicts.append(
                {
                    "serial_number": piece.serial_number,
                    "folder": folder.number,
                    "customer": folder.customer.name,
                }
            )
        seen.add(key)
    new_serials = [p.serial_number for p, change in changed if "serial_number" in change and p.serial_number]
    if new_serials:
        conflicts += serial_duplicates(
            organization_id=line.organization_id,
            product_id=line.product_id,
            serials=new_serials,
            exclude_ids=pieces.keys(),
        )
    if conflicts and not confirm_duplicates:
        raise DuplicateSerialWarning(conflicts)

    with transaction.atomic():
        flat: dict[str, list[Any]] = {}
        for piece, change in changed:
            piece.save()
            for field_name, values in change.items():
                flat[f"{field_name}#{piece.piece}"] = values
        data: dict[str, Any] = {"changes": flat}
        if conflicts:
            data["message"] = system_text(
                "folders.duplicate_serials_saved", serials=sorted({c["serial_number"] for c in conflicts})
            )
        _log(folder=folder, user=user, action="equipment.changed", obj=line, data=data)
    return list(pieces.values())


def equipment_assign_serials(
    *, line: OneOffLine, user, serials: list[str], confirm_duplicates: bool = False
) -> list[Equipment]:
    """Fill pieces without a serial number, in order, from a pasted list (scanner)."""
    return equipment_update(line=line, user=user, serials=serials, confirm_duplicates=confirm_duplicates)


# --- recurring lines -----------------------------------------------------------------


def recurring_line_add(*, folder: Folder, user, data: dict[str, Any]) -> RecurringLine:
    _check_open(folder)
    line = RecurringLine(organization=folder.organization, folder=folder)
    _apply(line, data, RECURRING_FIELDS)
    if line.start_date is None:
        line.start_date = folder.start_date or _today()
    _check_tenant(line, folder)
    line.full_clean(exclude=["folder"])
    with transaction.atomic():
        line.position = _next_position(folder.recurring_lines.all())
        line.save()
        _log(
            folder=folder,
            user=user,
            action="recurring_line.added",
            obj=line,
            data={"values": snapshot(line, RECURRING_FIELDS)},
        )
    return line


def _lock_billing_state(line: RecurringLine) -> None:
    """Lock the line's row and take `billed_through` from the database.

    The billing run moves `billed_through` in its own transaction and is the only writer
    of it. The guards of an edit ("fixed after billing", no delete, versions) must judge
    on what the run committed, not on what this instance read before the run - the lock
    waits for a run that has just billed the line to commit."""
    state = (
        RecurringLine.objects.select_for_update()
        .filter(pk=line.pk)
        .values("billed_through", "billed_elsewhere_through")
        .first()
    )
    if state is None:
        raise ValidationError(_("This line was deleted in the meantime."))
    line.billed_through = state["billed_through"]
    line.billed_elsewhere_through = state["billed_elsewhere_through"]


def recurring_line_update(
    *, line: RecurringLine, user, data: dict[str, Any], effective_from: dt.date | None = None
) -> RecurringLine:
    """Change a recurring line. Quantity or price changes become a new version from
    `effective_from` (see recurring_line_change) - except on a line never billed whose
    change applies from its start, which is simply corrected."""
    _check_open(line.folder)
    with transaction.atomic():
        _lock_billing_state(line)
        return _recurring_line_update(line=line, user=user, data=data, effective_from=effective_from)


def _recurring_line_update(
    *, line: RecurringLine, user, data: dict[str, Any], effective_from: dt.date | None
) -> RecurringLine:
    folder = line.folder
    new_quantity = data.get("quantity", line.quantity)
    new_price = data.get("unit_price", line.unit_price)
    other = {k: v for k, v in data.items() if k not in ("quantity", "unit_price")}
    versioned = (new_quantity != line.quantity or new_price != line.unit_price) and not (
        line.billed_through is None and (effective_from is None or effective_from <= line.start_date)
    )
    if not versioned:
        other["quantity"] = new_quantity
        other["unit_price"] = new_price
    before = snapshot(line, RECURRING_FIELDS)
    _apply(line, other, RECURRING_FIELDS)
    changes = diff(before, snapshot(line, RECURRING_FIELDS))
    if line.billed_through is not None:
        fixed = [f for f in RECURRING_FIXED_AFTER_BILLING if f in changes]
        if fixed:
            raise ValidationError(
                {
                    fixed[0]: _("The line is billed through %(date)s; this can no longer be changed.")
                    % {"date": date_format(line.billed_through, "SHORT_DATE_FORMAT")}
                }
            )
        if line.end_date and line.end_date < line.start_date:
            raise ValidationError({"end_date": _("The end date cannot be before the start date.")})
    _check_tenant(line, folder)
    line.full_clean()
    if line.changes.filter(effective_from__lte=line.start_date).exists() and "start_date" in changes:
        raise ValidationError(
            {"start_date": _("A quantity or price change already applies before this start date.")}
        )
    with transaction.atomic():
        if changes:
            # Only what changed: a full-row save would write back the billed_through this
            # instance was read with over the one the run set since.
            line.save(update_fields=[*changes, "updated_at"])
            _log(
                folder=folder, user=user, action="recurring_line.changed", obj=line, data={"changes": changes}
            )
        if versioned:
            recurring_line_change(
                line=line,
                user=user,
                effective_from=effective_from or _today(),
                quantity=new_quantity,
                unit_price=new_price,
            )
    return line


def recurring_line_change(
    *, line: RecurringLine, user, effective_from: dt.date, quantity: Decimal, unit_price: Decimal
) -> RecurringLineChange:
    """Record a new version of quantity and price from `effective_from` (billing prorates).

    The line's own quantity/price always show the newest version afterwards.
    """
    from .selectors import recurring_line_segments, segment_on

    folder = line.folder
    _check_open(folder)
    errors = {}
    if quantity is None or quantity <= 0:
        errors["quantity"] = _("The quantity must be greater than zero.")
    if unit_price is None or unit_price < 0:
        errors["unit_price"] = _("The price cannot be negative.")
    if effective_from <= line.start_date:
        errors["effective_from"] = _("A change must apply after the line's start date (%(date)s).") % {
            "date": date_format(line.start_date, "SHORT_DATE_FORMAT")
        }
    elif line.end_date and effective_from > line.end_date:
        errors["effective_from"] = _("The line ends on %(date)s; a change after that has no effect.") % {
            "date": date_format(line.end_date, "SHORT_DATE_FORMAT")
        }
    elif line.billed_elsewhere_through and effective_from <= line.billed_elsewhere_through:
        errors["effective_from"] = _(
            "Up to %(date)s this line was billed by the earlier system; a change can apply from the day after."
        ) % {"date": date_format(line.billed_elsewhere_through, "SHORT_DATE_FORMAT")}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        line = RecurringLine.objects.select_for_update().get(pk=line.pk)
        line.folder = folder
        current = segment_on(recurring_line_segments(line), effective_from)
        change = RecurringLineChange(
            organization=line.organization,
            line=line,
            effective_from=effective_from,
            quantity=quantity,
            unit_price=unit_price,
            previous_quantity=current["quantity"],
            previous_unit_price=current["unit_price"],
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        change.full_clean(exclude=["line"])
        change.save()
        newest = recurring_line_segments(line)[-1]
        line.quantity = newest["quantity"]
        line.unit_price = newest["unit_price"]
        line.save(update_fields=["quantity", "unit_price", "updated_at"])
        _log(
            folder=folder,
            user=user,
            action="recurring_line.version_added",
            obj=line,
            data={
                "message": system_text("folders.version_from", date=effective_from),
                "changes": {
                    "quantity": [str(current["quantity"]), str(quantity)],
                    "unit_price": [str(current["unit_price"]), str(unit_price)],
                },
            },
        )
    return change


def recurring_line_delete(*, line: RecurringLine, user) -> None:
    folder = line.folder
    _check_open(folder)
    with transaction.atomic():
        _lock_billing_state(line)
        if line.billed_through is not None:
            raise ValidationError(
                _("This line is billed through %(date)s and cannot be deleted; set an end date instead.")
                % {"date": date_format(line.billed_through, "SHORT_DATE_FORMAT")}
            )
        _log(
            folder=folder,
            user=user,
            action="recurring_line.deleted",
            obj=line,
            data={"values": snapshot(line, RECURRING_FIELDS)},
        )
        line.delete()


# --- templates ("standard installations") ------------------------------------------------


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
    _apply(template, data, TEMPLATE_FIELDS)
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
    _apply(template, data, TEMPLATE_FIELDS)
    template.full_clean()
    with transaction.atomic():
        template.save()
        _replace_items(template, items)
        changes = diff(before, snapshot(template, TEMPLATE_FIELDS))
        after_items = _template_items(template)
        if after_items != before_items:
            changes["items"] = ["; ".join(before_items), "; ".join(after_items)]
        if changes:
            audit_log(
                organization=template.organization,
                user=user,
                action="folder_template.changed",
                obj=template,
                data={"changes": changes},
            )
    return template


def folder_template_delete(*, template: FolderTemplate, user) -> None:
    with transaction.atomic():
        audit_log(
            organization=template.organization,
            user=user,
            action="folder_template.deleted",
            obj=template,
            data={"message": template.name, "items": _template_items(template)},
        )
        template.delete()


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
                values["start_date"] = folder.start_date or _today()
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
                    data=_package_data(product.service_package, pieces=pieces, start=folder.start_date),
                )
        _log(folder=folder, user=user, action="folder.created_from_template", data={"message": template.name})
    return folder


def _resolve(values: dict[str, Any], product: Product) -> dict[str, Any]:
    """Pre-fill dicts carry ids; services take model instances."""
    values = dict(values)
    values["product"] = product
    values["tax_rate"] = product.tax_rate
    values.pop("service_package", None)
    return values


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
        _log(
            folder=folder,
            user=user,
            action="folder.changed",
            data={
                "changes": {"billing_day": [None, old_day]},
                "message": system_text("folders.billing_day_kept", day=old_day),
            },
        )
    return len(folders)
