"""Who pays a folder line - decided here and nowhere else (DESIGN.md section 2).

Rule: a folder with a Financing is "third-party paid" (Drittzahler). Its ONE-OFF lines
(the financed hardware and its installation) are invoiced to the financier; everything
else - every recurring line of any folder, and the one-off lines of unfinanced folders -
is invoiced to the end customer who owns the folder.

The approval status does not change the payer: while a financing is attached, its
folder's hardware goes to the financier. If the financier rejects the deal, remove the
financing (or pick another financier) before invoicing; the folder page warns about it.

Billing, documents, reports and the UI ask `payer_for`; nothing else may decide.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist

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
