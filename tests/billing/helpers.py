"""Running the billing in tests: through the real service and (eager) Celery tasks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.test import TestCase
from django.utils import timezone

from billing.models import BillingCharge, BillingRun
from billing.services import billing_run_start
from documents.models import Document, DocumentKind
from tests.billing import factories as f


def bill(org, period: dt.date, *, as_of: dt.date | None = None, user=None) -> BillingRun:
    """Start a run for `period`; in eager mode it has finished when this returns."""
    # Tests run inside a transaction: run the on-commit hand-over to Celery (eager) now.
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = billing_run_start(
            organization=org, period=period, user=user, as_of=as_of or period, render_pdfs=False
        )
    run.refresh_from_db()
    return run


def book(org, *, customers: int) -> dt.date:
    """`customers` customers with one 10 € monthly line each from this month on; returns the month."""
    month = timezone.localdate().replace(day=1)
    for n in range(customers):
        folder = f.folder(org, f.customer(org, name=f"Kunde {n}"))
        f.recurring(folder, price="10.00", start=month)
    return month


def start_run(org, period: dt.date, **options) -> BillingRun:
    """Start a run and leave its planning and billing to the test: no e-mails, no PDFs."""
    return billing_run_start(
        organization=org, period=period, user=None, **{"dispatch": False, "render_pdfs": False, **options}
    )


def invoices(org, run: BillingRun | None = None):
    qs = Document.objects.filter(organization=org, kind=DocumentKind.INVOICE).prefetch_related("lines")
    if run is not None:
        qs = qs.filter(billing_run_id=run.pk)
    return list(qs.order_by("number"))


def lines_of(document) -> list[tuple]:
    """(description, service_start, service_end, quantity, net) per line."""
    return [
        (ln.description, ln.service_start, ln.service_end, ln.quantity, ln.net) for ln in document.lines.all()
    ]


def overbilled_days(line) -> list[dt.date]:
    """Days on which more than the line's quantity is billed (net of credits): a day billed twice."""
    per_day: dict[dt.date, int] = {}
    for charge in BillingCharge.objects.filter(recurring_line=line).exclude(kind="setup"):
        day = charge.service_start
        while day <= charge.service_end:
            per_day[day] = per_day.get(day, 0) + charge.quantity
            day += dt.timedelta(days=1)
    return sorted(day for day, quantity in per_day.items() if quantity > line.quantity)


def charges(line) -> list[tuple]:
    return list(
        BillingCharge.objects.filter(recurring_line=line)
        .order_by("period_start", "id")
        .values_list("period_start", "kind", "service_start", "service_end", "amount")
    )


Q3, Q4, Q2 = Decimal("0.001"), Decimal("0.0001"), Decimal("0.01")


def _line_key(description, detail, group, start, end, quantity, unit_price, net) -> tuple:
    return (
        description,
        detail,
        group,
        start,
        end,
        quantity.quantize(Q3),
        None if unit_price is None else unit_price.quantize(Q4),
        None if net is None else net.quantize(Q2),
    )


def invoice_keys(org) -> list[tuple]:
    """Everything that makes two billings equal, except the numbers (order of issue)."""
    keys = []
    for doc in invoices(org):
        keys.append(
            (
                doc.payer.name,
                doc.folder.number if doc.folder else "",
                doc.total_net,
                doc.total_gross,
                tuple(
                    _line_key(
                        ln.description,
                        ln.detail,
                        ln.group_title,
                        ln.service_start,
                        ln.service_end,
                        ln.quantity,
                        ln.unit_price,
                        ln.net,
                    )
                    for ln in doc.lines.all()
                ),
            )
        )
    return sorted(keys, key=repr)


def preview_keys(preview) -> list[tuple]:
    from documents.engine import LineInput, line_net

    keys = []
    for invoice in preview.invoices:
        totals = invoice.totals()
        keys.append(
            (
                invoice.payer.name,
                invoice.folder.number if invoice.folder else "",
                totals.net,
                totals.gross,
                tuple(
                    _line_key(
                        s.description,
                        s.detail,
                        s.group_title,
                        s.service_start,
                        s.service_end,
                        s.quantity,
                        s.unit_price,
                        line_net(
                            LineInput(
                                quantity=s.quantity,
                                unit_price=s.unit_price,
                                discount_percent=s.discount_percent,
                                tax_rate=0,
                            )
                        ),
                    )
                    for s in invoice.specs
                ),
            )
        )
    return sorted(keys, key=repr)


def total(docs) -> Decimal:
    return sum((d.total_gross for d in docs), Decimal("0"))


def credit_notes(org, run: BillingRun | None = None):
    qs = Document.objects.filter(organization=org, kind=DocumentKind.CREDIT_NOTE).prefetch_related("lines")
    if run is not None:
        qs = qs.filter(billing_run_id=run.pk)
    return list(qs.order_by("number"))
