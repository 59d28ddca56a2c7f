"""What a run would do now, without doing it: the preview screen's dry run
(`billing_preview`) and a dry run recorded as a run of status "previewed"
(`billing_preview_record`). Both plan exactly as a chunk does (billing.chunks), so the
preview is what the run does.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from organizations.money import ZERO

from . import planning
from .chunks import _plan, _record
from .models import BillingRun, RunStatus, RunTrigger, SkipReason
from .runs import check_period, chunk_size


@dataclass
class PreviewTotals:
    """The whole month's figures, summed while every account is planned (the page keeps
    the detail of a few accounts only, the totals count all of them)."""

    invoices: int = 0
    net: Decimal = ZERO
    tax: Decimal = ZERO
    gross: Decimal = ZERO
    failures: int = 0
    skips: Counter = field(default_factory=Counter)

    def add(self, plans: Sequence[planning.AccountPlan]) -> None:
        for plan in plans:
            for invoice in plan.invoices:
                totals = invoice.totals()
                self.invoices += 1
                self.net += totals.net
                self.tax += totals.tax
                self.gross += totals.gross
            self.skips.update(skip.reason for skip in plan.skips)
            self.failures += len(plan.failures)

    @property
    def skips_by_reason(self) -> list[tuple[str, str, int]]:
        """(reason, label, count) for every reason present, in the order of SkipReason."""
        return [(value, label, self.skips[value]) for value, label in SkipReason.choices if self.skips[value]]

    @property
    def skipped(self) -> int:
        return sum(self.skips.values())


@dataclass
class Preview:
    """What a run for `period` would do now: the detail of some billing accounts (`plans`)
    and the totals of all of them (`month`)."""

    period: dt.date
    as_of: dt.date
    accounts_total: int
    plans: list[planning.AccountPlan] = field(default_factory=list)
    month: PreviewTotals = field(default_factory=PreviewTotals)

    @property
    def invoices(self) -> list[planning.PlannedInvoice]:
        return [invoice for plan in self.plans for invoice in plan.invoices]

    @property
    def skips(self) -> list[planning.Skip]:
        return [skip for plan in self.plans for skip in plan.skips]

    @property
    def failures(self) -> list[planning.Failure]:
        return [failure for plan in self.plans for failure in plan.failures]

    @property
    def totals(self) -> dict[str, Decimal]:
        """Net, VAT and gross of the whole month (not only of the accounts in `plans`)."""
        return {"net": self.month.net, "tax": self.month.tax, "gross": self.month.gross}


def billing_preview(
    *,
    organization,
    period: dt.date,
    customer_ids: Sequence[int] | None = None,
    as_of: dt.date | None = None,
    month: bool = True,
) -> Preview:
    """A dry run: the invoices, skips and failures a run would produce now. Writes nothing.

    `customer_ids` limits the detail kept to some billing accounts (a page of the preview
    screen), by default all of them; the month's totals cover every account, summed
    chunk by chunk while planning, so the detail of the other pages is dropped at once
    and memory stays that of one chunk. Planning the whole month costs what a run's
    planning costs (seconds for thousands of accounts): with `month=False` only the
    `customer_ids` are planned, for paging through a preview whose totals are shown.
    """
    period = check_period(period)
    as_of = as_of or timezone.localdate()
    if month or customer_ids is None:
        accounts = planning.account_ids(organization=organization, period=period)
    else:
        accounts = list(customer_ids)
    wanted = set(accounts if customer_ids is None else customer_ids)
    preview = Preview(period=period, as_of=as_of, accounts_total=len(accounts))
    for start in range(0, len(accounts), chunk_size()):
        plans = _plan(organization, accounts[start : start + chunk_size()], period=period, as_of=as_of)
        preview.month.add(plans)
        preview.plans += [plan for plan in plans if plan.customer.pk in wanted]
    return preview


# --- dry run recorded ---------------------------------------------------------------------


def billing_preview_record(
    *, organization, period: dt.date, user, as_of: dt.date | None = None
) -> BillingRun:
    """Record a dry run (status "previewed"): counts, totals and skips as a run would
    make them now - no invoice, no charge. For `bill --dry-run --record`."""
    preview = billing_preview(organization=organization, period=period, as_of=as_of)
    totals = preview.totals
    with transaction.atomic():
        run = BillingRun.objects.create(
            organization=organization,
            period=preview.period,
            as_of=preview.as_of,
            status=RunStatus.PREVIEWED,
            trigger=RunTrigger.COMMAND,
            started_by=user if getattr(user, "is_authenticated", False) else None,
            started_at=timezone.now(),
            finished_at=timezone.now(),
            payers_total=preview.accounts_total,
            payers_done=preview.accounts_total,
            invoices_count=len(preview.invoices),
            charges_count=sum(len(i.charges) for i in preview.invoices),
            skipped_count=len(preview.skips),
            failed_count=len(preview.failures),
            total_net=totals["net"],
            total_tax=totals["tax"],
            total_gross=totals["gross"],
            render_pdfs=False,
        )
        _record(run, preview.skips, preview.failures)
    return run
