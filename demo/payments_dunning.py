"""Demo dunning: overdue invoices at each level, a disputed invoice, a dunning stop, and
the weekly runs that dunned the rest.

The demo invoices are at most a few weeks old, so the demo organizations dun at a quicker
pace than the defaults (reminder 3 days after the due date, then 7 and 7 days). The past
runs are approved through the real service with their own dates, oldest first, so the
letters, their numbers, fees and PDFs are exactly what a clerk would get; today's run is
left for the visitor to approve. Runs once per organization.
"""

from __future__ import annotations

import datetime as dt
import logging
import random

from django.utils import timezone

from demo.records import DemoRecords
from documents.models import DocumentStatus
from payments import dunning_selectors, dunning_services
from payments.models import DunningLevel
from payments.selectors import invoice_balances, receivable_invoices

logger = logging.getLogger(__name__)

RUN_EVERY_DAYS = 7


def _overdue(organization, today: dt.date):
    invoices = (
        receivable_invoices()
        .filter(organization=organization, due_date__lt=today)
        .exclude(status=DocumentStatus.CANCELLED)
        .select_related("payer")
        .order_by("due_date", "id")
    )
    return [b.invoice for b in invoice_balances(invoices, today=today) if b.open > 0 and b.state == "overdue"]


def seed(organization, *, rng: random.Random, users: dict) -> None:
    records = DemoRecords(organization, "payments_dunning")
    if not records.once(
        "payments_dunning:made", done_before=DunningLevel.objects.filter(organization=organization)
    ):
        return
    billing = users.get("billing") or users.get("admin")
    today = timezone.localdate()
    dunning_services.dunning_levels_save(
        organization=organization, user=billing, values={1: {"days": 3}, 2: {"days": 7}, 3: {"days": 7}}
    )
    overdue = _overdue(organization, today)
    if not overdue:
        logger.info("demo dunning: no overdue invoice in %s", organization)
        return
    payers = list(dict.fromkeys(invoice.payer for invoice in overdue))
    if len(overdue) > 2:
        disputed = overdue[1]
        dunning_services.dispute_open(
            organization=organization,
            invoice=disputed,
            note="Kunde meldet: zwei der berechneten Geräte wurden nicht geliefert; Klärung mit dem Lager läuft.",
            since=disputed.due_date,
            user=billing,
        )
    if len(payers) > 3:
        dunning_services.dunning_stop_add(
            organization=organization,
            customer=payers[-1],
            note="Ratenzahlung vereinbart (3 Raten), bis zur letzten Rate keine Mahnungen.",
            since=today - dt.timedelta(days=10),
            until=today + dt.timedelta(days=60),
            user=billing,
        )
    first = min(invoice.due_date for invoice in overdue) + dt.timedelta(days=3)
    day = today - dt.timedelta(days=RUN_EVERY_DAYS)
    days = []
    while day >= first:
        days.append(day)
        day -= dt.timedelta(days=RUN_EVERY_DAYS)
    for run_day in reversed(days):
        proposal = dunning_selectors.dunning_proposal(organization=organization, today=run_day)
        if not proposal.payers:
            continue
        result = dunning_services.dunning_run_approve(
            organization=organization,
            user=billing,
            payer_ids=[p.payer.pk for p in proposal.payers],
            today=run_day,
        )
        for name, why in result.skipped:
            logger.info("demo dunning: no letter to %s (%s)", name, why)
