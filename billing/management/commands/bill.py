"""Run (or preview) the billing of a month from the command line.

    manage.py bill --period 2026-11                 # every organization
    manage.py bill --period 2026-11 --org nordtek   # one organization
    manage.py bill --period 2026-11 --dry-run       # what a run would make, nothing written
    manage.py bill --period 2026-11 --dry-run --record   # ... recorded as a "previewed" run

The run executes in this process (like a Celery worker would, chunk by chunk) with a
progress bar on a terminal. A run of the organization that is still queued or running
for the same month is resumed instead of refused, so a run interrupted with Ctrl-C can
be finished the same way.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_scopes import scope
from tqdm import tqdm

from billing import planning, services
from billing.models import ACTIVE_STATUSES, BillingRun, RunTrigger
from organizations.models import Organization


def _period(value: str) -> dt.date:
    match = re.fullmatch(r"(\d{4})-(\d{2})", value or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise CommandError(f"--period must be a month like 2026-11, not {value!r}")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


class Command(BaseCommand):
    help = "Bill a month: every folder once, to the right payer (or preview it with --dry-run)."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="The month to bill, e.g. 2026-11.")
        parser.add_argument("--org", help="Slug of one organization (default: all).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be billed; write nothing."
        )
        parser.add_argument(
            "--record", action="store_true", help="With --dry-run: keep it as a 'previewed' run."
        )
        parser.add_argument(
            "--as-of", help="Judge holds and billing dates on this day (YYYY-MM-DD; default today)."
        )
        parser.add_argument(
            "--no-pdf", action="store_true", help="Do not render PDFs now (rendered on first use)."
        )

    def handle(self, *args, **options):
        period = _period(options["period"])
        try:
            as_of = dt.date.fromisoformat(options["as_of"]) if options["as_of"] else None
        except ValueError:
            raise CommandError(f"--as-of must be a date like 2026-11-01, not {options['as_of']!r}") from None
        organizations = Organization.objects.order_by("slug")
        if options["org"]:
            organizations = organizations.filter(slug=options["org"])
            if not organizations.exists():
                raise CommandError(f"No organization with slug {options['org']!r}.")
        failed = False
        for organization in organizations:
            with scope(organization=organization):
                if options["dry_run"]:
                    self._preview(organization, period, as_of, record=options["record"])
                else:
                    failed |= not self._run(organization, period, as_of, render_pdfs=not options["no_pdf"])
        if failed:
            raise CommandError("At least one run did not finish; see above.")

    def _bar(self, organization, total: int) -> tqdm:
        return tqdm(
            total=total,
            desc=organization.slug,
            unit=" accounts",
            file=sys.stderr,
            disable=None,  # only on a terminal
            dynamic_ncols=True,
        )

    def _preview(self, organization, period: dt.date, as_of, *, record: bool) -> None:
        if record:
            run = services.billing_preview_record(
                organization=organization, period=period, user=None, as_of=as_of
            )
            self.stdout.write(
                f"{organization.slug}: recorded dry run #{run.pk}: {run.invoices_count} invoices, "
                f"{run.total_gross} gross, {run.skipped_count} skipped, {run.failed_count} failures"
            )
            return
        accounts = planning.account_ids(organization=organization, period=period)
        as_of = as_of or timezone.localdate()
        invoices = skips = failures = 0
        gross = 0
        size = services.chunk_size()
        with self._bar(organization, len(accounts)) as bar:
            for start in range(0, len(accounts), size):
                chunk = accounts[start : start + size]
                for plan in planning.plan_accounts(
                    organization=organization, customer_ids=chunk, period=period, as_of=as_of
                ):
                    invoices += len(plan.invoices)
                    skips += len(plan.skips)
                    failures += len(plan.failures)
                    gross += sum(invoice.totals().gross for invoice in plan.invoices)
                    for failure in plan.failures:
                        payer = failure.payer.name if failure.payer else "-"
                        self.stdout.write(f"  would fail: {payer}: {failure.label}: {failure.message}")
                bar.update(len(chunk))
        self.stdout.write(
            f"{organization.slug} {period:%Y-%m} (dry run): {len(accounts)} billing accounts, {invoices} invoices, "
            f"{gross} gross, {skips} folders skipped, {failures} failures"
        )

    def _run(self, organization, period: dt.date, as_of, *, render_pdfs: bool) -> bool:
        run = BillingRun.objects.filter(organization=organization, status__in=ACTIVE_STATUSES).first()
        if run is not None and run.period != period:
            self.stderr.write(
                f"{organization.slug}: run #{run.pk} for {run.period:%Y-%m} is still active; skipped."
            )
            return False
        if run is None:
            try:
                run = services.billing_run_start(
                    organization=organization,
                    period=period,
                    user=None,
                    as_of=as_of,
                    trigger=RunTrigger.COMMAND,
                    render_pdfs=render_pdfs,
                    dispatch=False,
                )
            except ValidationError as exc:
                self.stderr.write(f"{organization.slug}: {' '.join(exc.messages)}")
                return False
        else:
            if as_of is not None:
                try:
                    run = services.billing_run_as_of_set(run=run, as_of=as_of, user=None)
                except ValidationError as exc:
                    self.stderr.write(f"{organization.slug}: {' '.join(exc.messages)}")
                    return False
            self.stdout.write(f"{organization.slug}: resuming run #{run.pk}")
        started = time.monotonic()
        bar = self._bar(organization, 0)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        with bar:
            run = services.billing_run_execute(run.pk, progress=progress)
        seconds = time.monotonic() - started
        if run.nothing_new:
            self.stdout.write(f"{organization.slug} {period:%Y-%m}: nothing new to bill - no run created.")
            return True
        self.stdout.write(
            f"{organization.slug} {period:%Y-%m}: run #{run.pk} {run.status} in {seconds:.1f}s: "
            f"{run.invoices_count} invoices, {run.charges_count} charges, {run.total_gross} gross, "
            f"{run.skipped_count} folders skipped, {run.failed_count} failures"
        )
        for failure in run.failures.select_related("payer")[:50]:
            payer = failure.payer.name if failure.payer else "-"
            self.stdout.write(f"  failure: {payer}: {failure.get_reason_display()}: {failure.message}")
        return run.status == "done"
