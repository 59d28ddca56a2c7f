"""What payments adds to other apps' pages: the payment state in the invoice list (a
column of documents.extensions), a panel with open amount and payments on the invoice
page, and on the customer's payment tab its SEPA mandates, its account and its dunning
stop (the shared panel registry, organizations.panels)."""

from __future__ import annotations

from collections.abc import Sequence

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from documents.extensions import ListColumn, list_column_register
from documents.models import Document, DocumentKind, DocumentStatus
from organizations.access import can
from organizations.money import ZERO
from organizations.panels import Panel, panel_register

from .dunning_selectors import active_stop
from .models import MandateStatus, SepaMandate
from .selectors import invoice_balances, invoice_payments


def _issued(records: Sequence[Document]) -> list[Document]:
    return [r for r in records if r.status != DocumentStatus.DRAFT]


def payment_cells(records: Sequence[Document]) -> dict[int, str]:
    balances = invoice_balances(_issued(records), today=timezone.localdate())
    return {b.invoice.pk: render_to_string("payments/_payment_cell.html", {"balance": b}) for b in balances}


def payment_panel(request, document: Document) -> dict | None:
    if document.kind != DocumentKind.INVOICE or document.status == DocumentStatus.DRAFT:
        return None
    [balance] = invoice_balances([document], today=timezone.localdate())
    record_url = None
    if can(request, "payments.manage") and balance.open > ZERO:
        record_url = f"{reverse('payments:record')}?payer={document.payer_id}&amount={balance.open}"
    return {
        "balance": balance,
        "allocations": invoice_payments(document),
        "record_url": record_url,
        "account_url": reverse("payments:customer", args=[document.payer_id]),
    }


def customer_panel(request, customer) -> dict | None:
    """The customer's payment tab: its mandates (the one truth for direct debits), a link
    to its account, and whether a dunning stop holds its letters back, with the way to add
    or lift one."""
    if customer.is_prospect:
        return None
    today = timezone.localdate()
    mandates = list(
        SepaMandate.objects.filter(customer=customer)
        .select_related("folder")
        .order_by("-signed_on", "-id")[:20]
    )
    stop = active_stop(customer, today=today)
    return {
        "customer": customer,
        "mandates": [m for m in mandates if m.status == MandateStatus.ACTIVE] or mandates[:1],
        "mandate_count": len(mandates),
        "stop": stop,
        "can_manage": can(request, "payments.manage"),
        "account_url": reverse("payments:customer", args=[customer.pk]),
        "mandates_url": f"{reverse('payments:mandates')}?customer={customer.pk}",
        "mandate_new_url": reverse("payments:mandate_new", args=[customer.pk]),
        "stops_url": f"{reverse('payments:dunning_stops')}?customer={customer.pk}#stop-form",
    }


def register() -> None:
    list_column_register(
        ListColumn(key="payment", label=_("Payment"), kinds=(DocumentKind.INVOICE,), cells=payment_cells)
    )
    panel_register(
        "document.detail",
        Panel(name="payment", template="payments/_invoice_panel.html", data=payment_panel, slot="side"),
    )
    panel_register(
        "customer.detail",
        Panel(name="payments", template="payments/_customer_panel.html", data=customer_panel, slot="payment"),
    )
