"""Benchmark the month-end billing run on a synthetic organization.

    createdb -h 127.0.0.1 -U postgres backoffice_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/backoffice_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/backoffice_bench \\
        .venv/bin/python manage.py bench_billing --customers 20000

Builds (with bulk_create) an organization of N customers, 1.5 N folders and 3 N
recurring lines - monthly, quarterly and yearly, in advance and in arrears, some with
trials, setup fees, price changes and ends - of which 10 % of the folders are financed
(with hardware still to invoice on some) and 20 % of the customers consolidate their
invoices. Lines that started before last month are taken over as billed by an earlier
system up to the month before last; then last month is billed (the "warm-up" run, which
also gives every line a real charge history) and then this month (the measured run).
Both runs are timed; PDFs are not rendered (BILLING_RENDER_PDFS off), so the figures
are numbers, lines, charges and totals in the database. Peak memory: the process's
maximum resident set size (getrusage), before and after each run.

While the measured run is active (after its first chunk, or after planning when it has
one chunk) the organization's billing day and the billing day of a folder still to be
billed are changed through their services, as a clerk would; afterwards the command
counts the line-days billed in two periods and fails unless there are none.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import gc
import os
import random
import resource
import signal
import subprocess
import sys
import time
import tracemalloc
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries, transaction
from django.db.models import F
from django.test.utils import override_settings
from django.utils import timezone
from django_scopes import scope
from tqdm import tqdm

from bench.samples import sample_organization
from billing import engine, planning, services
from billing.models import BillingCharge, BillingRun, RunTrigger
from catalog.models import TaxRate
from customers.models import Customer
from documents.models import Document, DocumentLine
from financing.models import Financing
from folders.models import Folder, OneOffLine, RecurringLine, RecurringLineChange
from folders.services import folder_update
from organizations.models import Organization
from organizations.months import first_of_month_after
from organizations.services import organization_update

D = Decimal
BATCH = 5000


def _rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = "Build a synthetic organization and time the billing run (PDFs excluded)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=20000)
        parser.add_argument(
            "--slug", default="bench", help="Slug of the synthetic organization (must not exist)."
        )
        parser.add_argument("--month", help="The measured month (YYYY-MM; default: the current month).")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--profile", help="Write cProfile statistics of the measured run to this file.")
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            help="Run on a real Celery worker with this many processes (Redis broker) instead of in this process.",
        )
        parser.add_argument("--broker", default="redis://127.0.0.1:6379/14", help="Broker for --workers.")
        parser.add_argument(
            "--tracemalloc", action="store_true", help="Also report Python's peak allocations (slower)."
        )
        parser.add_argument(
            "--chunk-size", type=int, help="Billing accounts per chunk (default: BILLING_CHUNK_SIZE, 500)."
        )

    def handle(self, *args, **options):
        # No PDFs, and no query log (DEBUG): measure what a production worker does.
        chunks = {"BILLING_CHUNK_SIZE": options["chunk_size"]} if options["chunk_size"] else {}
        with override_settings(BILLING_RENDER_PDFS=False, DEBUG=False, **chunks):
            self._bench(options)

    def _bench(self, options) -> None:
        if Organization.objects.filter(slug=options["slug"]).exists():
            raise CommandError(
                f"Organization {options['slug']!r} exists; pass another --slug or use a fresh database."
            )
        today = timezone.localdate()
        month = dt.date.fromisoformat(options["month"] + "-01") if options["month"] else today.replace(day=1)
        previous = first_of_month_after(month, -1)
        rng = random.Random(options["seed"])
        n = options["customers"]
        self.stdout.write(
            f"Database: {connection.vendor} {connection.settings_dict.get('NAME')}; "
            f"{n} customers; billing {previous:%Y-%m} (warm-up) and {month:%Y-%m} (measured)"
        )
        self.workers = None
        self.concurrency = 0
        started = time.monotonic()
        org = self._build(n, rng, options["slug"], previous)
        self._analyze()  # fresh statistics after the bulk load, as autovacuum would have
        # The runs should see a worker's heap, not the builder's: drop what building left.
        gc.collect()
        self.stdout.write(f"Built in {time.monotonic() - started:.1f}s: {self._counts(org)}")
        if options["workers"]:
            self._start_workers(options["workers"], options["broker"])
        try:
            for label, period in (("warm-up", previous), ("measured", month)):
                profile = options["profile"] if label == "measured" else None
                self._run(org, period, label, trace=options["tracemalloc"], profile=profile)
                self._analyze()  # a month passes between runs: autovacuum has analyzed the new rows
            again = self._run(org, month, "same month again", trace=False, profile=None)
            if again.invoices_count:
                raise CommandError("A second run of the same month invoiced something.")
            twice = self._days_billed_twice(org)
            self.stdout.write(f"Line-days billed twice: {twice}")
            if twice:
                raise CommandError(f"{twice} line-days were billed in two periods.")
            with scope(organization=org):
                if BillingCharge.objects.filter(
                    recurring_line__billed_elsewhere_through__gte=F("service_start")
                ).exists():
                    raise CommandError("A run billed days the earlier system had billed already.")
        finally:
            self._stop_workers()

    def _analyze(self) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    # --- building --------------------------------------------------------------------

    def _counts(self, org) -> str:
        with scope(organization=org):
            return (
                f"{Customer.objects.count()} customers, {Folder.objects.count()} folders "
                f"({Financing.objects.count()} financed), {RecurringLine.objects.count()} recurring lines, "
                f"{RecurringLineChange.objects.count()} changes, "
                f"{OneOffLine.objects.filter(invoice_document_id__isnull=True).count()} one-off lines to invoice"
            )

    def _build(self, n: int, rng: random.Random, slug: str, previous: dt.date) -> Organization:
        org = sample_organization(
            slug, "Benchmark Bürotechnik", legal_name="Benchmark Bürotechnik GmbH", street="Teststraße 1"
        )
        with scope(organization=org), transaction.atomic():
            rate = TaxRate.objects.create(organization=org, name="USt 19 %", rate=D("19.00"), is_default=True)
            financiers = Customer.objects.bulk_create(
                Customer(
                    organization=org,
                    number=f"F{i:04}",
                    name=f"Leasinggesellschaft {i} AG",
                    street="Leasingweg 1",
                    postal_code="76532",
                    city="Baden-Baden",
                    is_financier=True,
                )
                for i in range(20)
            )
            customers = []
            for start in tqdm(range(0, n, BATCH), desc="customers", file=sys.stderr, disable=None):
                customers += Customer.objects.bulk_create(
                    Customer(
                        organization=org,
                        number=f"K{i:06}",
                        name=f"Benchkunde {i} GmbH",
                        street=f"Musterweg {i % 200 + 1}",
                        postal_code=f"{10000 + i % 89999:05}",
                        city="Hamburg",
                        consolidate_invoices=i % 5 == 0,  # 20 %
                        invoice_email=f"rechnung{i}@example.de",
                    )
                    for i in range(start, min(n, start + BATCH))
                )
            # 1.5 folders per customer: every second customer has two.
            owners = [c for i, c in enumerate(customers) for _ in range(2 if i % 2 == 0 else 1)]
            folders = []
            for start in tqdm(range(0, len(owners), BATCH), desc="folders", file=sys.stderr, disable=None):
                folders += Folder.objects.bulk_create(
                    Folder(
                        organization=org,
                        customer=owner,
                        number=f"O{i:07}",
                        name=f"Standort {i}",
                        status="active",
                        start_date=previous - dt.timedelta(days=rng.randint(0, 720)),
                    )
                    for i, owner in enumerate(owners[start : start + BATCH], start=start)
                )
            financed = folders[::10]  # 10 %
            Financing.objects.bulk_create(
                Financing(
                    organization=org,
                    folder=folder,
                    financier=financiers[i % len(financiers)],
                    lease_term_months=60,
                    contract_reference=f"L-{i}",
                    approval_status="approved",
                )
                for i, folder in enumerate(financed)
            )
            # New hardware this month on a tenth of the financed folders, the rest invoiced long ago.
            OneOffLine.objects.bulk_create(
                OneOffLine(
                    organization=org,
                    folder=folder,
                    position=1,
                    description="Multifunktionssystem A3 Farbe",
                    quantity=D("1"),
                    unit_price=D("3990.00"),
                    tax_rate=rate,
                    **(
                        {}
                        if i % 10 == 0
                        else {
                            "invoice_document_id": 0,
                            "invoice_number": "ALT",
                            "invoiced_on": folder.start_date,
                        }
                    ),
                )
                for i, folder in enumerate(financed)
            )
            lines = []
            for start in tqdm(
                range(0, len(folders), BATCH), desc="recurring lines", file=sys.stderr, disable=None
            ):
                batch = []
                for folder in folders[start : start + BATCH]:
                    for position in (1, 2):
                        batch.append(self._line(org, folder, position, rate, rng, previous))
                lines += RecurringLine.objects.bulk_create(batch)
            changed = rng.sample(lines, len(lines) // 30)  # ~3 % changed quantity/price
            RecurringLineChange.objects.bulk_create(
                RecurringLineChange(
                    organization=org,
                    line=line,
                    effective_from=max(
                        line.start_date + dt.timedelta(days=1),
                        previous - dt.timedelta(days=rng.randint(0, 200)),
                    ),
                    quantity=line.quantity + 1,
                    unit_price=line.unit_price,
                    previous_quantity=line.quantity,
                    previous_unit_price=line.unit_price,
                )
                for line in changed
            )
            for line in changed:
                RecurringLine.objects.filter(pk=line.pk).update(quantity=line.quantity + 1)
            self._take_over(org, previous)
        return org

    def _line(self, org, folder: Folder, position: int, rate: TaxRate, rng: random.Random, previous: dt.date):
        roll = rng.random()
        cycle = 1 if roll < 0.7 else 3 if roll < 0.9 else 12
        start = (
            folder.start_date if position == 1 else folder.start_date + dt.timedelta(days=rng.randint(0, 90))
        )
        start = min(start, previous + dt.timedelta(days=40))
        extra = {}
        if rng.random() < 0.02:
            extra["trial_end"] = start + dt.timedelta(days=rng.randint(14, 90))
        if rng.random() < 0.05:
            extra["setup_fee"] = D("99.00")
        if rng.random() < 0.05:
            extra["end_date"] = start + dt.timedelta(days=rng.randint(30, 900))
        return RecurringLine(
            organization=org,
            folder=folder,
            position=position,
            description="SIP-Trunk Business\n10 Sprachkanäle" if position == 1 else "Managed Print Service",
            quantity=D(rng.choice(["1", "1", "2", "5", "10"])),
            unit="month",
            unit_price=D(rng.randint(500, 30000)) / 100,
            cycle=cycle,
            timing="arrears" if rng.random() < 0.2 else "advance",
            start_date=start,
            tax_rate=rate,
            **extra,
        )

    def _take_over(self, org, previous: dt.date) -> None:
        """Lines older than the warm-up month: billed by an earlier system up to the month
        before it (as demo/billing.py does after a migration)."""
        before = first_of_month_after(previous, -1)
        through = defaultdict(list)
        changes = defaultdict(list)
        for line_id, change_id, effective in RecurringLineChange.objects.values_list(
            "line_id", "id", "effective_from"
        ):
            changes[line_id].append((change_id, effective))
        folders = {f.pk: f for f in Folder.objects.all()}
        for line in RecurringLine.objects.filter(start_date__lt=previous).iterator(chunk_size=5000):
            line.folder = folders[line.folder_id]
            line.folder.organization = org
            if line.pk in changes:
                continue  # keeps its full catch-up (exercises the engine on changes)
            terms = planning.line_terms(line, [])
            ends = [
                c.service_end
                for c in engine.due_charges(terms, run_month=before, billed=[])
                if planning.is_billing(c.kind)
            ]
            if ends:
                through[max(ends)].append(line.pk)
        for day, ids in through.items():
            for start in range(0, len(ids), BATCH):
                RecurringLine.objects.filter(pk__in=ids[start : start + BATCH]).update(
                    billed_through=day, billed_elsewhere_through=day
                )

    # --- running ---------------------------------------------------------------------------

    def _run(self, org, period: dt.date, label: str, *, trace: bool, profile: str | None) -> BillingRun:
        with scope(organization=org):
            docs_before = Document.objects.count()
            lines_before = DocumentLine.objects.count()
            rss_before = _rss_mb()
            if trace:
                tracemalloc.start()
            reset_queries()
            started = time.monotonic()
            run = services.billing_run_start(
                organization=org,
                period=period,
                user=None,
                as_of=period,
                trigger=RunTrigger.COMMAND,
                render_pdfs=False,
                dispatch=self.workers is not None,  # to the Celery workers, after commit
            )
            bar = tqdm(total=0, desc=label, unit=" accounts", file=sys.stderr, disable=None)

            def progress(done: int, total: int) -> None:
                bar.total, bar.n = total, done
                bar.refresh()
                inject()

            injected = label != "measured"

            def inject() -> None:
                nonlocal injected
                if injected:
                    return
                current = BillingRun.objects.get(pk=run.pk)
                if current.status != "running":
                    return
                if current.chunks_total > 1 and not current.chunks_done:
                    return  # mid-run: once the first chunk is done
                injected = True
                self.stdout.write(self._change_billing_days(org, current))

            profiler = cProfile.Profile() if profile else None
            if profiler:
                profiler.enable()
            if self.workers is None:
                run = services.billing_run_execute(run.pk, progress=progress)
            else:
                run = self._wait(run, progress)
            if profiler:
                profiler.disable()
                profiler.dump_stats(profile)
            bar.close()
            seconds = time.monotonic() - started
            peak = ""
            if trace:
                _current, top = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                peak = f", Python peak allocations {top / 1024 / 1024:.0f} MB"
            where = "this process" if self.workers is None else f"{self.concurrency} Celery worker processes"
            if self.workers is not None:
                peak = f"{peak}, peak RSS of the worker processes {self._worker_peak_mb():.0f} MB"
            self.stdout.write(
                f"{label} {period:%Y-%m}: {run.status} in {seconds:.1f}s on {where} - {run.invoices_count} invoices "
                f"({Document.objects.count() - docs_before} documents, "
                f"{DocumentLine.objects.count() - lines_before} lines), {run.charges_count} charges, "
                f"{run.total_gross} gross, {run.skipped_count} skipped, {run.failed_count} failures; "
                f"{run.payers_total} accounts in {run.chunks_total} chunks; "
                f"max RSS of this process {rss_before:.0f} -> {_rss_mb():.0f} MB{peak}"
            )
            return run

    def _change_billing_days(self, org, run: BillingRun) -> str:
        """Change the organization's billing day, and the billing day of a folder of a chunk
        not billed yet, through the services while `run` is active; say what happened."""
        outcomes = []
        pending = run.chunks.filter(status="pending").order_by("index").first()
        folder = (
            Folder.objects.filter(customer_id__in=pending.customer_ids).order_by("pk").first()
            if pending is not None
            else None
        )
        changes = [
            (
                "organization",
                lambda: organization_update(
                    organization=Organization.objects.get(pk=org.pk), user=None, data={"billing_day": 15}
                ),
            )
        ]
        if folder is not None:
            changes.append(
                (
                    f"folder {folder.number}",
                    lambda: folder_update(folder=folder, user=None, data={"billing_day": 17}),
                )
            )
        for what, change in changes:
            try:
                change()
            except ValidationError as exc:
                outcomes.append(f"{what}: refused ({' '.join(exc.messages)})")
            else:
                outcomes.append(f"{what}: changed")
        return (
            f"Billing day change tried during the run ({run.chunks_done} of {run.chunks_total} chunks done): "
            + ("; ".join(outcomes))
        )

    def _days_billed_twice(self, org) -> int:
        """Days of a line that charges of two different periods cover (the setup fee is no
        day; credits and change pieces cover days of their own period on purpose)."""
        ranges: dict[int, dict[dt.date, list[dt.date]]] = defaultdict(dict)
        with scope(organization=org):
            rows = (
                BillingCharge.objects.exclude(kind=engine.SETUP)
                .values_list("recurring_line_id", "period_start", "service_start", "service_end")
                .iterator(chunk_size=BATCH)
            )
            for line_id, period_start, first, last in rows:
                span = ranges[line_id].setdefault(period_start, [first, last])
                span[0], span[1] = min(span[0], first), max(span[1], last)
        twice = 0
        for periods in ranges.values():
            covered_until = None
            for first, last in sorted(periods.values()):
                if covered_until is not None and first <= covered_until:
                    twice += (min(last, covered_until) - first).days + 1
                covered_until = last if covered_until is None else max(covered_until, last)
        return twice

    # --- Celery workers ------------------------------------------------------------------

    def _start_workers(self, concurrency: int, broker: str) -> None:
        """A real `celery worker` (prefork, `concurrency` processes). Give it a broker (a
        Redis database) of its own: it consumes the default queue."""
        from config.celery import app

        app.conf.broker_url = broker
        app.conf.task_always_eager = False
        env = {
            **os.environ,
            "CELERY_BROKER_URL": broker,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "BILLING_RENDER_PDFS": "0",
            "DJANGO_DEBUG": "false",
        }
        self.workers = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-c",
                str(concurrency),
                "-l",
                "warning",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            env=env,
            cwd=settings.BASE_DIR,
        )
        self.concurrency = concurrency
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=1):
            if time.monotonic() > deadline or self.workers.poll() is not None:
                raise CommandError("The Celery worker did not start.")

    def _worker_peak_mb(self) -> float:
        """The highest peak resident set (VmHWM) among the worker's processes (Linux)."""
        pids = [self.workers.pid]
        try:
            with open(f"/proc/{self.workers.pid}/task/{self.workers.pid}/children") as handle:
                pids += [int(pid) for pid in handle.read().split()]
        except OSError:
            return 0.0
        peak = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/status") as handle:
                    for line in handle:
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]))
            except OSError:
                continue
        return peak / 1024

    def _stop_workers(self) -> None:
        if self.workers is not None:
            self.workers.send_signal(signal.SIGTERM)
            try:
                self.workers.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.workers.kill()

    def _wait(self, run: BillingRun, progress) -> BillingRun:
        while True:
            run.refresh_from_db()
            progress(run.payers_done, run.payers_total)
            if run.status not in ("pending", "running"):
                return run
            if self.workers.poll() is not None:
                raise CommandError("The Celery worker died.")
            time.sleep(0.2)
