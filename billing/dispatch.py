"""Delivering a finished run's invoices, after commit and apart from the run (task
`billing_run_dispatch_task`, queued by billing.runs.billing_run_finish)."""

from __future__ import annotations

from collections import Counter

from django.db import transaction

from documents import services as document_services
from documents.models import (
    MAIL_CHANNELS,
    DispatchChannel,
    DispatchStatus,
    Document,
    DocumentKind,
    DocumentStatus,
)
from organizations.system_texts import system_text

from . import system_texts as _system_texts  # noqa: F401 - registers the codes used below
from .models import BillingRun
from .runs import append_log


def billing_run_dispatch(run_id: int) -> dict[str, int]:
    """Deliver a finished run's invoices and credit notes by each payer's delivery method
    (documents.services.document_dispatch: an outbox row per document - e-mailed with the
    attachment or as a portal notification by the worker, queued to print, or waiting for
    the Chorus Pro export). A payer without an e-mail address gets a failed row with the
    reason, listed among the failed dispatches. A document that has a row already keeps
    it, so running this again sends nothing twice; the counts describe the outcome either
    way: "sent" (e-mails), "no_recipient", and the other delivery methods by name."""
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
        row = document_services.document_dispatch(document=document, user=None, once=True)
        if row.channel in MAIL_CHANNELS and row.status == DispatchStatus.FAILED and not row.tries:
            counts["no_recipient"] += 1  # refused before any try: no address
        elif row.channel == DispatchChannel.EMAIL:
            counts["sent"] += 1
        else:
            counts[document.payer.delivery_method or "none"] += 1
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
