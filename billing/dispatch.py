"""Delivering a finished run's invoices, after commit and apart from the run (task
`billing_run_dispatch_task`, queued by billing.runs.billing_run_finish)."""

from __future__ import annotations

from collections import Counter

from django.core.exceptions import ValidationError
from django.db import transaction

from customers.models import DeliveryMethod
from documents import services as document_services
from documents.models import Document, DocumentKind, DocumentStatus
from organizations.system_texts import system_text

from . import system_texts as _system_texts  # noqa: F401 - registers the codes used below
from .models import BillingRun
from .runs import append_log


def billing_run_dispatch(run_id: int) -> dict[str, int]:
    """Deliver a finished run's invoices, after commit and apart from the run: e-mailed
    with their PDF where the payer's delivery method says so (documents.services.document_send:
    status "sent", audited, the mail in its own task); the others - post, portal notice,
    Chorus Pro, GoCardless export, or no address - are counted in the run log for the
    back office. Invoices already sent are skipped, so running it again sends nothing twice."""
    run = BillingRun.objects.get(pk=run_id)
    counts: Counter[str] = Counter()
    invoices = (
        Document.objects.filter(
            organization=run.organization_id,
            billing_run_id=run.pk,
            kind__in=[DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE],
            status=DocumentStatus.ISSUED,
            sent_at__isnull=True,
        )
        .select_related("payer")
        .order_by("number")
    )
    for document in invoices.iterator(chunk_size=500):
        method = document.payer.delivery_method if document.payer_id else ""
        if method != DeliveryMethod.EMAIL_PDF:
            counts[method or "none"] += 1
            continue
        try:
            document_services.document_send(document=document, user=None)
        except ValidationError:
            counts["no_recipient"] += 1
        else:
            counts["sent"] += 1
    message = system_text(
        "billing.run_delivered",
        sent=counts["sent"],
        missing=counts["no_recipient"],
        others={method: count for method, count in counts.items() if method not in ("sent", "no_recipient")},
    )
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        append_log(run, message, level="warning" if counts["no_recipient"] else "info")
        run.save(update_fields=["log"])
    return dict(counts)
