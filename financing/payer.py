"""Who pays a folder line - decided here and nowhere else (DESIGN.md section 2).

Rule: a folder with a Financing is "third-party paid" (Drittzahler). Its ONE-OFF lines
(the financed hardware and its installation) are invoiced to the financier; everything
else - every recurring line of any folder, and the one-off lines of unfinanced folders -
is invoiced to the end customer who owns the folder.

The approval status does not change the payer: while a financing is attached, its
folder's hardware goes to the financier. It decides *when*: the financier is invoiced
once it approved (`financier_invoice_refusal`). If the financier rejects the deal, remove
the financing (or pick another financier) before invoicing; the folder page says so.

Billing, documents, reports and the UI ask `payer_for`; nothing else may decide.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.translation import gettext as _

from customers.models import Customer
from folders.models import Folder, OneOffLine, RecurringLine


def _financing(folder: Folder):
    try:
        return folder.financing
    except ObjectDoesNotExist:
        return None


def payer_for(line: OneOffLine | RecurringLine) -> Customer:
    """The customer who receives the invoice for `line`."""
    if isinstance(line, OneOffLine):
        financing = _financing(line.folder)
        if financing is not None:
            return financing.financier
        return line.folder.customer
    if isinstance(line, RecurringLine):
        return line.folder.customer
    raise TypeError(f"payer_for() takes a OneOffLine or RecurringLine, not {type(line).__name__}")


def payer_for_folder_oneoffs(folder: Folder) -> dict[int, Customer]:
    """{line id: payer} for all one-off lines of a folder (delegates to payer_for)."""
    lines = list(folder.oneoff_lines.all())
    for line in lines:
        line.folder = folder  # one folder (and financing) lookup for all lines
    return {line.pk: payer_for(line) for line in lines}


def financier_invoice_refusal(financing) -> ValidationError | None:
    """The financier is invoiced for the hardware once it approved the financing: a
    rejected one never, a submitted one not yet. None when it may be invoiced; otherwise
    the error that invoicing raises, whose message says why."""
    if financing.approval_status == "rejected":
        return ValidationError(
            _(
                "The financier %(name)s rejected this financing. Remove the financing or choose another "
                "financier before invoicing."
            )
            % {"name": financing.financier.name},
            code="financing_rejected",
        )
    if financing.approval_status != "approved":
        return ValidationError(
            _(
                "The financing by %(name)s is not approved yet. Record the approval in the folder's "
                "financing before the hardware is invoiced to the financier."
            )
            % {"name": financing.financier.name},
            code="financing_not_approved",
        )
    return None


def folder_payer_note(folder: Folder) -> str:
    """The sentence the folder page shows about who is invoiced for what, read from
    `payer_for` and `financier_invoice_refusal` rather than written out a second time."""
    oneoff = payer_for(OneOffLine(folder=folder))
    recurring = payer_for(RecurringLine(folder=folder))
    financing = _financing(folder)
    if financing is None:
        return _("Not financed: %(name)s pays all lines of this folder.") % {"name": oneoff.name}
    refusal = financier_invoice_refusal(financing)
    names = {"oneoff": oneoff.name, "recurring": recurring.name}
    if refusal is None:
        return (
            _(
                "Third-party payer: one-off lines are invoiced to %(oneoff)s; recurring lines to %(recurring)s."
            )
            % names
        )
    if refusal.code == "financing_not_approved":
        return (
            _(
                "Third-party payer: one-off lines are invoiced to %(oneoff)s once it approves the financing; "
                "until then they are not invoiced. Recurring lines go to %(recurring)s."
            )
            % names
        )
    return (
        _(
            "%(oneoff)s rejected the financing: the one-off lines are not invoiced to anyone until the "
            "financing is removed or another financier is chosen. Recurring lines go to %(recurring)s."
        )
        % names
    )
