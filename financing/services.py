"""Writes of financings, and the one place that decides who pays a line.

`payer_for` lives in financing/payer.py and is re-exported here; billing and documents
ask it, nothing else decides (DESIGN.md section 2).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from folders.models import Folder, FolderStatus, OneOffLine
from organizations.audit import audit_changes, audit_log, audited_delete, diff, snapshot

from .models import ApprovalStatus, Financing
from .payer import financing_rejected, payer_for, payer_for_folder_oneoffs

__all__ = ["financing_remove", "financing_set", "payer_for", "payer_for_folder_oneoffs"]

FINANCING_FIELDS = [
    "financier",
    "lease_term_months",
    "contract_reference",
    "approval_status",
    "approval_status_on",
    "monthly_rate",
    "insurance",
    "insurance_details",
    "residual_value",
    "notes",
]


def _log(folder: Folder, financing: Financing, *, user, action: str, data: dict[str, Any]) -> None:
    audit_log(
        organization=folder.organization, user=user, action=action, obj=financing, target=folder, data=data
    )


# The contract the financier's invoice was issued under: its reference is printed on it
# and the financier books the lease against it. Once the hardware is invoiced these stay
# as invoiced (the financier too: _check_payer_fixed); a correction cancels the invoice
# first (which releases its lines), so folder and issued invoice never disagree.
FROZEN_BY_INVOICE = ["lease_term_months", "contract_reference"]


def _invoice_numbers(folder: Folder) -> list[str]:
    return sorted(
        set(
            OneOffLine.objects.filter(folder=folder, invoice_document_id__isnull=False).values_list(
                "invoice_number", flat=True
            )
        )
    )


def _check_contract_fixed(folder: Folder, financing: Financing, data: dict[str, Any]) -> None:
    changed = [key for key in FROZEN_BY_INVOICE if key in data and data[key] != getattr(financing, key)]
    if not changed:
        return
    numbers = _invoice_numbers(folder)
    if numbers:
        message = _(
            "Fixed by invoice %(invoices)s to the financier; cancel that invoice to correct the financing."
        ) % {"invoices": ", ".join(numbers)}
        raise ValidationError({key: message for key in changed}, code="fixed_by_invoice")


def _check_payer_fixed(folder: Folder, field: str | None = None) -> None:
    """Who pays one-off lines that are already invoiced is fixed by their invoice: the
    financing cannot be added, removed or given another financier until it is cancelled.
    With `field` the refusal is shown at that form field."""
    numbers = _invoice_numbers(folder)
    if numbers:
        message = _(
            "One-off lines of folder %(number)s are already invoiced (%(invoices)s); cancel that invoice "
            "before changing who pays them."
        ) % {"number": folder.number, "invoices": ", ".join(numbers)}
        raise ValidationError({field: message} if field else message, code="fixed_by_invoice")


def financing_set(*, folder: Folder, user, data: dict[str, Any]) -> Financing:
    """Attach a financing to the folder, or change the attached one.

    Refused (nothing saved): a financier of another organization, a customer not flagged
    as financier, the folder's own customer as financier, a terminated folder.
    """
    if folder.status == FolderStatus.TERMINATED:
        raise ValidationError(
            _("Folder %(number)s is terminated; its financing cannot be changed.") % {"number": folder.number}
        )
    financing = Financing.objects.filter(folder=folder).first()
    created = financing is None
    if created:
        financing = Financing(organization=folder.organization, folder=folder)
    before = snapshot(financing, FINANCING_FIELDS) if not created else {}
    if created:
        _check_payer_fixed(folder)
    elif "financier" in data and data["financier"] != financing.financier:
        _check_payer_fixed(folder, field="financier")
    elif "approval_status" in data and financing_rejected(financing) != (
        data["approval_status"] == ApprovalStatus.REJECTED
    ):
        # A rejection moves the hardware to the end customer (payer_for), and taking it
        # back moves it to the financier again.
        _check_payer_fixed(folder, field="approval_status")
    if not created:
        _check_contract_fixed(folder, financing, data)
    for key in FINANCING_FIELDS:
        if key in data:
            setattr(financing, key, data[key])
    financing.insurance_details = financing.insurance_details if financing.insurance else ""
    financing.full_clean()
    with transaction.atomic():
        financing.save()
        after = snapshot(financing, FINANCING_FIELDS)
        if created:
            _log(folder, financing, user=user, action="financing.added", data={"values": after})
        else:
            audit_changes(
                financing, diff(before, after), user=user, action="financing.changed", target=folder
            )
    folder.financing = financing
    return financing


def financing_remove(*, folder: Folder, user) -> None:
    """Detach the financing: from now on the end customer pays the one-off lines too.
    Lines already invoiced to the financier stay as they are (documents are records)."""
    financing = Financing.objects.filter(folder=folder).first()
    if financing is None:
        raise ValidationError(_("Folder %(number)s has no financing.") % {"number": folder.number})
    _check_payer_fixed(folder)
    audited_delete(
        financing,
        user=user,
        action="financing.removed",
        target=folder,
        data={"values": snapshot(financing, FINANCING_FIELDS)},
    )
    folder._state.fields_cache.pop("financing", None)
