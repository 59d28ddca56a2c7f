"""Writes to a folder's lines: one-off lines (an equipment line gets one Equipment row
per piece, see `equipment.py`), recurring lines with their versions of quantity and price,
and what the documents app stores on one-off lines when it invoices or delivers them.

The lines of a terminated folder are not changed; every change is filed under the
folder's history.
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

from catalog.models import Scope, ServicePackage
from organizations.audit import audit_entry, diff, snapshot
from organizations.models import AuditEntry
from organizations.system_texts import system_text

from . import system_texts as _system_texts  # noqa: F401 - registers the codes used below
from .equipment import default_warranty, sync_equipment
from .models import Folder, FolderStatus, OneOffLine, RecurringLine, RecurringLineChange
from .prefill import package_line_prefill
from .service_kit import apply_fields, folder_log, local_today

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


def _check_open(folder: Folder) -> None:
    if folder.status == FolderStatus.TERMINATED:
        raise ValidationError(
            _("Folder %(number)s is terminated; its lines cannot be changed.") % {"number": folder.number}
        )


# --- one-off lines -------------------------------------------------------------------


def _next_position(qs) -> int:
    return (qs.aggregate(m=Max("position"))["m"] or 0) + 1


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
    apply_fields(line, data, ONEOFF_FIELDS)
    _check_tenant(line, folder)
    line.full_clean(exclude=["folder"])
    with transaction.atomic():
        line.position = _next_position(folder.oneoff_lines.all())
        line.save()
        sync_equipment(line)
        folder_log(
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
                data=package_line_data(
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


def package_line_data(package: ServicePackage, *, pieces: int, start: dt.date | None) -> dict[str, Any]:
    per_device = package.entitlements.filter(scope=Scope.PER_DEVICE).exists()
    data = package_line_prefill(package, pieces=pieces, per_device=per_device)
    data["service_package"] = package
    data["product"] = None
    data["tax_rate"] = package.tax_rate
    data["start_date"] = start or local_today()
    return data


def _lock_invoice_state(line: OneOffLine) -> None:
    """Lock the line's row and take what invoiced or delivered it from the database (a run
    may have invoiced it since this instance was read; see `_lock_billing_state`)."""
    _lock_and_reload(
        line,
        [
            "invoice_document_id",
            "invoice_number",
            "invoiced_on",
            "delivery_document_id",
            "delivery_note_number",
        ],
    )


def _lock_and_reload(line: OneOffLine | RecurringLine, fields: list[str]) -> None:
    """Lock the line's row and take `fields` from it as committed."""
    state = type(line).objects.select_for_update().filter(pk=line.pk).values(*fields).first()
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
    apply_fields(line, data, ONEOFF_FIELDS)
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
        sync_equipment(line)
        folder_log(
            folder=folder, user=user, action="oneoff_line.changed", obj=line, data={"changes": changes}
        )
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
        folder_log(folder=folder, user=user, action="oneoff_line.deleted", obj=line, data={"values": values})
        line.delete()


def oneoff_lines_mark_invoiced(*, lines: Iterable[OneOffLine], document, user=None) -> int:
    """Called by the documents app when it issues an invoice for these lines: stores the
    document's id, number and date on each line (plain fields; folders cannot import
    documents). `document` needs `pk`, `number` and `issue_date` (or `issued_on`).

    One conditional UPDATE marks them all: a line that another invoice took meanwhile
    (another user, another run) is not overwritten, and the whole call is refused."""
    lines = list(lines)
    if not lines:
        return 0
    issued = getattr(document, "issue_date", None) or getattr(document, "issued_on", None) or local_today()
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
            folder_log(
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
        or local_today()
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
                default_warranty(piece, line)
                piece.save(update_fields=["delivered_on", "warranty_end", "updated_at"])
            folder_log(
                folder=line.folder,
                user=user,
                action="oneoff_line.delivered",
                obj=line,
                data={"message": str(document.number or document.pk)},
            )
            count += 1
    return count


# --- recurring lines -----------------------------------------------------------------


def recurring_line_add(*, folder: Folder, user, data: dict[str, Any]) -> RecurringLine:
    _check_open(folder)
    line = RecurringLine(organization=folder.organization, folder=folder)
    apply_fields(line, data, RECURRING_FIELDS)
    if line.start_date is None:
        line.start_date = folder.start_date or local_today()
    _check_tenant(line, folder)
    line.full_clean(exclude=["folder"])
    with transaction.atomic():
        line.position = _next_position(folder.recurring_lines.all())
        line.save()
        folder_log(
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
    _lock_and_reload(line, ["billed_through", "billed_elsewhere_through"])


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
    apply_fields(line, other, RECURRING_FIELDS)
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
            folder_log(
                folder=folder, user=user, action="recurring_line.changed", obj=line, data={"changes": changes}
            )
        if versioned:
            recurring_line_change(
                line=line,
                user=user,
                effective_from=effective_from or local_today(),
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
        folder_log(
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
        folder_log(
            folder=folder,
            user=user,
            action="recurring_line.deleted",
            obj=line,
            data={"values": snapshot(line, RECURRING_FIELDS)},
        )
        line.delete()
