"""Demo billing: the last three months billed by real runs, and today's contract alerts.

The demo folders started up to 30 months ago, long before this back office "went live".
As after a real migration, their recurring lines are first marked as billed by the
previous system up to the month before the first run (`billed_through`, computed with
the engine; such lines have no charges here, and the run treats them accordingly), so
the runs show a normal month each instead of years of catch-up. Then the last three
months are billed through the real services (eager, PDFs left for first download), so
the billing-run pages and the invoice list have history, and the current month is left
for the preview. Idempotent: this happens once per organization, when it is seeded; a
later run (also in a later month) bills nothing - billing what people added to the demo
is theirs to start.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.utils import timezone
from django_scopes import scope

from billing import engine, planning, services
from billing.models import BillingCharge, BillingRun, RunTrigger
from demo.records import DemoRecords
from folders.models import Folder, RecurringLine
from organizations.months import first_of_month_after

MONTHS = 3


def _take_over_history(organization, first_month: dt.date, folders: list[Folder]) -> None:
    """Mark lines of the demo `folders` that started before `first_month` as billed
    elsewhere up to the month before it (exactly what monthly runs up to then would have
    billed)."""
    previous = first_of_month_after(first_month, -1)
    charged = set(
        BillingCharge.objects.filter(organization=organization)
        .values_list("recurring_line_id", flat=True)
        .distinct()
    )
    lines = (
        RecurringLine.objects.filter(
            organization=organization,
            folder__in=folders,
            billed_through__isnull=True,
            start_date__lt=first_month,
        )
        .exclude(pk__in=charged)
        .select_related("folder")
    )
    through: dict[dt.date, list[int]] = defaultdict(list)
    changes = planning.change_rows(organization=organization, line_ids=[line.pk for line in lines])
    for line in lines:
        line.folder.organization = organization
        terms = planning.line_terms(line, changes.get(line.pk, []))
        charges = engine.due_charges(terms, run_month=previous, billed=[])
        ends = [c.service_end for c in charges if planning.is_billing(c.kind)]
        if ends:
            through[max(ends)].append(line.pk)
    for day, ids in through.items():
        RecurringLine.objects.filter(pk__in=ids).update(billed_through=day, billed_elsewhere_through=day)


def seed(organization, *, rng: random.Random, users: dict) -> None:
    with scope(organization=organization):
        records = DemoRecords(organization, "billing")
        folders = list(records.get_many(records.keys("folders:folder:"), Folder).values())
        # An organization that has billed before (an earlier seed or its people) gets no
        # demo history: its runs are its own.
        if not folders or not records.once(
            "billing:history",
            done_before=BillingRun.objects.filter(organization=organization),
        ):
            return
        today = timezone.localdate()
        this_month = today.replace(day=1)
        months = [first_of_month_after(this_month, -n) for n in range(MONTHS, 0, -1)]
        _take_over_history(organization, months[0], folders)
        user = users.get("billing") or users.get("admin")
        for month in months:
            try:
                run = services.billing_run_start(
                    organization=organization,
                    period=month,
                    user=user,
                    as_of=today,  # issued today: invoice numbers ascend with their dates
                    trigger=RunTrigger.MANUAL,
                    render_pdfs=False,
                    dispatch=False,
                )
            except ValidationError:
                return  # e.g. the organization has no VAT ID yet: nothing can be invoiced
            services.billing_run_execute(run.pk)
        services.contract_alerts_create(organization=organization, today=today)
