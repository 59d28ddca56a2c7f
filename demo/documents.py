"""Demo documents: the leasing workflow of the seed, and some direct sales.

For every financed demo folder: the quote to the end customer (accepted), the invoice to
the financier and the delivery note with the serial numbers. For a few direct folders a
quote and a one-off invoice, and one invoice cancelled by a credit note, so every
document screen has real records and PDFs. Only folders the folder seed made are used
(never one someone added), and the whole step runs once per organization (idempotent).
Documents go through the real services, so numbers, snapshots, audit entries and PDFs
are exactly what a clerk would produce.
"""

from __future__ import annotations

import datetime as dt
import logging
import random

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from demo.records import DemoRecords
from documents import services
from documents.models import Document, DocumentKind
from documents.selectors import undelivered_equipment
from folders.models import Folder

logger = logging.getLogger(__name__)

MAX_FINANCED = 4
MAX_DIRECT = 4
SPREAD_DAYS = 45


class _Calendar:
    """Ascending issue dates over the last weeks (numbers must ascend with the dates)."""

    def __init__(self, organization, rng: random.Random, steps: int):
        today = timezone.localdate()
        last = Document.objects.filter(organization=organization).aggregate(last=Max("issue_date"))["last"]
        self.day = max(today - dt.timedelta(days=SPREAD_DAYS), last or today - dt.timedelta(days=SPREAD_DAYS))
        self.today = today
        self.rng = rng
        self.step = max(1, (today - self.day).days // max(steps, 1))

    def next(self) -> dt.date:
        self.day = min(self.today, self.day + dt.timedelta(days=self.rng.randint(0, self.step)))
        return self.day


def _try(label: str, fn, *args, **kwargs):
    try:
        with transaction.atomic():
            return fn(*args, **kwargs)
    except ValidationError as exc:
        logger.info("demo documents: %s skipped (%s)", label, "; ".join(exc.messages))
        return None


def _has_documents(folder: Folder) -> bool:
    return Document.objects.filter(folder=folder).exists()


def _financed(folder: Folder) -> bool:
    return folder.is_third_party_paid


def _quote(folder: Folder, user, day: dt.date, *, accept: bool) -> Document | None:
    draft = _try(
        f"quote {folder}",
        services.quote_create,
        folder=folder,
        user=user,
        valid_until=day + dt.timedelta(days=60),
    )
    if draft is None:
        return None
    quote = _try(f"quote {folder}", services.quote_issue, quote=draft, user=user, issue_date=day)
    if quote is not None and accept:
        _try(f"accept {quote}", services.quote_accept, quote=quote, user=user)
    return quote


def _deliver(folder: Folder, user, day: dt.date, *, partial: bool) -> Document | None:
    pieces = list(undelivered_equipment(folder))
    if not pieces:
        return None
    if partial and len(pieces) > 1:
        pieces = pieces[: len(pieces) // 2 + 1]
    return _try(
        f"delivery note {folder}",
        services.delivery_note_issue,
        folder=folder,
        user=user,
        equipment_ids=[p.pk for p in pieces],
        delivery_date=day,
        issue_date=day,
    )


def seed(organization, *, rng: random.Random, users: dict) -> None:
    # The demo documents are made once per organization: a second run must not pick the
    # next batch of folders (seed_demo is idempotent).
    records = DemoRecords(organization, "documents")
    demo_folders = records.get_many(records.keys("folders:folder:"), Folder)
    if not demo_folders or not records.once(
        "documents:made",
        done_before=Document.objects.filter(organization=organization, kind=DocumentKind.QUOTE),
    ):
        return
    sales = users.get("sales") or users.get("admin")
    billing = users.get("billing") or users.get("admin")
    support = users.get("support") or sales
    folders = list(
        Folder.objects.filter(organization=organization, pk__in=[f.pk for f in demo_folders.values()])
        .select_related("customer")
        .prefetch_related("oneoff_lines", "recurring_lines")
        .order_by("id")
    )
    fresh = [
        f for f in folders if not _has_documents(f) and (f.oneoff_lines.all() or f.recurring_lines.all())
    ]
    financed = [f for f in fresh if _financed(f)][:MAX_FINANCED]
    direct = [f for f in fresh if not _financed(f) and f.oneoff_lines.all()]
    rng.shuffle(direct)
    direct = direct[:MAX_DIRECT]
    calendar = _Calendar(organization, rng, steps=3 * len(financed) + 3 * len(direct) + 2)

    invoices: list[Document] = []

    def deliver_and_invoice(folder: Folder, *, partial: bool) -> None:
        """Deliver the folder's equipment (all or part of it) and invoice what was delivered."""
        _deliver(folder, support, calendar.next(), partial=partial)
        invoice = _try(
            f"invoice {folder}",
            services.invoice_oneoff_now,
            folder=folder,
            user=billing,
            issue_date=calendar.next(),
        )
        if invoice is not None:
            invoices.append(invoice)

    # The seed's workflow: quote to the end customer, invoice to the financier, delivery note.
    for folder in financed:
        quote = _quote(folder, sales, calendar.next(), accept=True)
        if quote is None:
            continue
        deliver_and_invoice(folder, partial=False)

    # Direct sales: a quote each; most accepted and invoiced, one still open, one revised.
    for index, folder in enumerate(direct):
        accept = index != len(direct) - 1
        quote = _quote(folder, sales, calendar.next(), accept=accept)
        if quote is None:
            continue
        if not accept:
            _try(f"revise {quote}", services.quote_revise, quote=quote, user=sales)
            continue
        deliver_and_invoice(folder, partial=index == 0)

    # One wrong invoice, corrected the GoBD way: cancelled by a credit note.
    direct_invoices = [inv for inv in invoices if not inv.third_party]
    if (
        direct_invoices
        and not Document.objects.filter(organization=organization, kind=DocumentKind.CREDIT_NOTE).exists()
    ):
        _try(
            "cancellation",
            services.invoice_cancel,
            invoice=direct_invoices[-1],
            user=billing,
            reason="Falscher Rabatt berechnet – Rechnung wird neu gestellt.",
        )
        # ...and invoiced again with the same lines.
        folder = direct_invoices[-1].folder
        _try(f"re-invoice {folder}", services.invoice_oneoff_now, folder=folder, user=billing)
