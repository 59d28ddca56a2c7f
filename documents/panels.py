"""The documents sections of the folder and customer pages (registered in DocumentsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from customers.models import Customer
from folders.models import Folder
from organizations.panels import Panel, panel_register

from . import selectors, services

CUSTOMER_DOCUMENTS_SHOWN = 50


def folder_documents(request: HttpRequest, folder: Folder) -> dict[str, Any]:
    """Every document made from the folder, in order, and what the folder's document
    buttons need to know."""
    refusal = services.invoice_oneoff_refusal(folder)
    return {
        "documents": list(selectors.documents_for_folder(folder)),
        **selectors.folder_document_state(folder),
        # The service's own checks: the button acts only when the service would.
        "oneoff_refusal": refusal.messages[0] if refusal is not None else "",
    }


def customer_documents(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    """The newest documents addressed to the customer and those of its folders a
    financier pays, and how many there are."""
    qs = selectors.documents_for_customer(customer)
    return {"documents": list(qs[:CUSTOMER_DOCUMENTS_SHOWN]), "total": qs.count()}


def register() -> None:
    from .dispatch_views import dispatch_panel

    panel_register(
        "document.detail",
        Panel("dispatch", "documents/_dispatch_panel.html", dispatch_panel, slot="side", order=50),
    )
    panel_register(
        "folder.detail",
        Panel("documents", "documents/_folder_documents.html", folder_documents, slot="below_lines"),
    )
    panel_register(
        "customer.detail",
        Panel("documents", "documents/_customer_documents.html", customer_documents, slot="documents"),
    )
