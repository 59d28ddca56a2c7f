"""The folders section of the customer page (registered in FoldersConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from customers.models import Customer
from organizations.panels import Panel, panel_register

from . import selectors


def customer_folders(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    """The customer's own folders and, for a financier, the folders of others it pays for."""
    return {
        "own_folders": list(selectors.customer_folders(customer)),
        "financed": selectors.financier_folders(customer) if customer.is_financier else [],
    }


def register() -> None:
    panel_register(
        "customer.detail",
        Panel("folders", "folders/_customer_folders.html", customer_folders, slot="folders"),
    )
