"""Who pays a folder line - decided here and nowhere else (DESIGN.md section 2).

Rule: a folder with a Financing is "third-party paid" (Drittzahler). Its ONE-OFF lines
(the financed hardware and its installation) are invoiced to the financier; everything
else - every recurring line of any folder, and the one-off lines of unfinanced folders -
is invoiced to the end customer who owns the folder.

The approval status decides *when* the financier is invoiced: once it approved
(`financier_invoice_refusal`); while the deal is submitted the hardware waits. A financier
that rejected the deal pays nothing: the end customer bought the hardware and is invoiced
for it as a direct sale, as if the folder had never been financed - unless the folder is
terminated (the deal fell through with the financing), in which case the run leaves its
hardware alone (`oneoffs_withheld`). The folder page and the billing preview say so.

Billing, documents, reports and the UI ask `payer_for`; nothing else may decide.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.translation import gettext as _

from customers.models import Customer
from folders.models import Folder, FolderStatus, OneOffLine, RecurringLine

from .models import ApprovalStatus


def _financing(folder: Folder):
    try:
        return folder.financing
    except ObjectDoesNotExist:
        return None


def financing_rejected(financing) -> bool:
    return financing is not None and financing.approval_status == ApprovalStatus.REJECTED


def rejected_financing_of(folder: Folder):
    """The folder's financing when its financier rejected it, else None."""
    financing = _financing(folder)
    return financing if financing_rejected(financing) else None


def oneoffs_withheld(folder: Folder) -> bool:
    """A terminated folder whose financing was rejected: the deal fell through, so its
    one-off lines are invoiced to nobody by the run (staff may still invoice them by hand)."""
    return folder.status == FolderStatus.TERMINATED and rejected_financing_of(folder) is not None


def payer_for(line: OneOffLine | RecurringLine) -> Customer:
    """The customer who receives the invoice for `line`."""
    if isinstance(line, OneOffLine):
        financing = _financing(line.folder)
        if financing is not None and not financing_rejected(financing):
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
    if financing_rejected(financing):
        return ValidationError(
            _(
                "The financier %(name)s rejected this financing; it is not invoiced. The hardware is "
                "invoiced to the end customer as a direct sale."
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
    return rejected_note(folder)


def rejected_note(folder: Folder) -> str:
    """What happens to the hardware of a folder whose financing was rejected ("" when it
    was not): the folder page's warning and payer note, and the billing preview, say it."""
    financing = rejected_financing_of(folder)
    if financing is None:
        return ""
    names = {"financier": financing.financier.name, "customer": folder.customer.name}
    if oneoffs_withheld(folder):
        return (
            _(
                "%(financier)s rejected the financing and the folder is terminated: the billing run "
                "invoices its one-off lines to no one. Recurring lines go to %(customer)s."
            )
            % names
        )
    return (
        _(
            "%(financier)s rejected the financing: the one-off lines are invoiced to %(customer)s as a "
            "direct sale, as are the recurring lines."
        )
        % names
    )
