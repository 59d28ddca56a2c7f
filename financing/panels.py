"""The financing sections of the folder page (registered in FinancingConfig.ready): who
pays, read from `payer_for`, so the folder page needs no import of financing."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest

from folders.models import Folder
from organizations.access import can
from organizations.panels import Panel, panel_register

from .payer import folder_payer_note, payer_for_folder_oneoffs, rejected_note


def _financing(folder: Folder):
    try:
        return folder.financing
    except ObjectDoesNotExist:
        return None


def folder_financing(request: HttpRequest, folder: Folder) -> dict[str, Any]:
    """The folder's financing card, and the payer of each one-off line
    (`line_payers`: {line id: customer}) for the folder's line table."""
    return {
        "financing": _financing(folder),
        "note": folder_payer_note(folder),
        "can_change": can(request, "financing.change"),
        "line_payers": payer_for_folder_oneoffs(folder),
    }


def folder_financing_rejected(request: HttpRequest, folder: Folder) -> dict[str, Any] | None:
    """A warning above the folder when the financier rejected the financing (who is
    invoiced for the hardware now); nothing otherwise."""
    note = rejected_note(folder)
    return {"note": note} if note else None


def register() -> None:
    panel_register(
        "folder.detail",
        Panel(
            "financing_rejected", "financing/_folder_rejected.html", folder_financing_rejected, slot="alerts"
        ),
    )
    panel_register(
        "folder.detail",
        Panel("financing", "financing/_folder_financing.html", folder_financing, slot="above_lines"),
    )
