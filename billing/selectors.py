"""Reads shared by the billing views, the reports and the tests."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from documents.models import DocumentKind, DocumentLine, DocumentStatus
from organizations.money import money

from .engine import days_in, month_end
from .models import (
    ACTIVE_STATUSES,
    NOTHING_NEW,
    BillingRun,
    BillingRunFailure,
    BillingRunItem,
    BillingRunSkip,
    SkipReason,
)

ZERO = Decimal("0.00")


def run_list() -> QuerySet[BillingRun]:
    """The runs worth listing: not those that found nothing new to bill."""
    return BillingRun.objects.exclude(**NOTHING_NEW).select_related("started_by").order_by("-period", "-id")


def run_items(run: BillingRun) -> QuerySet[BillingRunItem]:
    return (
        BillingRunItem.objects.filter(run=run)
        .select_related("document", "payer", "customer", "folder")
        .order_by("document__number", "id")
    )


def run_skips(run: BillingRun, *, reason: str | None = None) -> QuerySet[BillingRunSkip]:
    qs = BillingRunSkip.objects.filter(run=run).select_related("folder", "customer")
    if reason:
        qs = qs.filter(reason=reason)
    return qs.order_by("reason", "customer__name", "folder__number", "id")


def run_skip_counts(run: BillingRun) -> list[tuple[str, str, int]]:
    """(reason, label, count) for every reason present, in the order of SkipReason."""
    counts = dict(BillingRunSkip.objects.filter(run=run).values_list("reason").annotate(n=Count("id")))
    return [(value, label, counts[value]) for value, label in SkipReason.choices if counts.get(value)]


def run_failures(run: BillingRun) -> QuerySet[BillingRunFailure]:
    return (
        BillingRunFailure.objects.filter(run=run)
        .select_related("payer", "folder", "recurring_line")
        .order_by("reason", "id")
    )


def active_run(organization) -> BillingRun | None:
    return BillingRun.objects.filter(organization=organization, status__in=["pending", "running"]).first()


# --- deferred revenue ----------------------------------------------------------------------


@dataclass
class DeferredRevenue:
    """Revenue of invoiced service periods, split by days (Rechnungsabgrenzung).

    `recognized`: the part of all invoices and credit notes whose service falls into
    `month`, whenever they were issued. `deferred`: what was invoiced by the end of
    `month` for service after it (a yearly invoice paid in advance, still to be earned).
    """

    month: dt.date
    recognized: Decimal = ZERO
    deferred: Decimal = ZERO
    by_invoice: dict[str, Decimal] = field(default_factory=dict)


def _earned_through(net: Decimal, start: dt.date, end: dt.date, day: dt.date) -> Decimal:
    """What of `net` for service `start`..`end` is earned by the end of `day`, rounded so
    that the months of a period add up exactly to its net (cumulative rounding)."""
    if day < start:
        return ZERO
    if day >= end:
        return net
    share = net * Decimal(days_in(start, day)) / Decimal(days_in(start, end))
    return money(share)


def deferred_revenue(organization, *, month: dt.date) -> DeferredRevenue:
    """Split every issued invoice/credit-note line with a service period over the days of
    that period; report what belongs to `month` and what is still deferred after it."""
    first = month.replace(day=1)
    last = month_end(first)
    result = DeferredRevenue(month=first)
    lines = (
        DocumentLine.objects.filter(
            organization=organization,
            document__kind__in=[DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE],
            service_start__isnull=False,
            service_end__isnull=False,
            net__isnull=False,
            service_end__gte=first,
        )
        .exclude(document__status=DocumentStatus.DRAFT)
        .values_list("net", "service_start", "service_end", "document__number", "document__issue_date")
    )
    by_invoice: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for net, start, end, number, issued in lines.iterator(chunk_size=5000):
        if start <= last:
            part = _earned_through(net, start, end, last) - _earned_through(
                net, start, end, first - dt.timedelta(days=1)
            )
            result.recognized += part
            by_invoice[number] += part
        if issued is not None and issued <= last and end > last:
            result.deferred += net - _earned_through(net, start, end, last)
    result.by_invoice = {k: v for k, v in sorted(by_invoice.items()) if v}
    return result


def billing_day_change_check(*, organization, folder=None, **kwargs) -> None:
    """Receiver of organizations' `billing_day_change_requested`: refuses a new billing day
    (the organization's or a folder's) while a run of the organization is queued or
    running. Its chunks plan one after another; a chunk planned on the new day would lay
    its periods over days an earlier chunk, or the last run, billed on the old day - and
    the pin only sees what is committed."""
    if BillingRun.objects.filter(organization=organization, status__in=ACTIVE_STATUSES).exists():
        raise ValidationError(
            {
                "billing_day": _(
                    "A billing run of this organization is queued or running. The billing day can be "
                    "changed once it has finished."
                )
            },
            code="run_active",
        )
