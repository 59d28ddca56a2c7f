"""The billing run: preview, start, execute (per chunk of billing accounts), finish;
and the daily contract-lifecycle check.

How a run goes (DESIGN.md section 4, "The billing run is idempotent"):

1. `billing_run_start` records a queued run (at most one queued/running run per
   organization: a partial unique index) and, after commit, hands it to Celery.
2. `billing_run_plan` (task `billing_run_task`) lists the billing accounts - end
   customers owning a billable folder - and cuts them into chunks; the chunk rows are
   the fan-out and make it idempotent.
3. `billing_chunk_execute` (task `billing_chunk_task`, one per chunk, on any worker)
   works in ONE transaction that holds the chunk row's lock throughout (a chunk
   delivered twice waits, then finds it done). In it, it plans the chunk's invoices with
   the pure engine (billing.planning) - plain reads that lock no folder or line, so an
   edit can land between planning and storing: billing days cannot change while the run
   is active (billing.selectors.billing_day_change_check), a line edit locks the line,
   judges on what the run committed and writes only its own fields (folders.services),
   and what the database refuses fails one payer (below). Then it stores them:
   invoices, lines and charges bulk-inserted, numbers taken as one contiguous block
   under the number-range lock (documents.bulk),
   `billed_through` moved forward, one-off lines marked invoiced, skips and failures
   recorded, the chunk marked done and the run's counters raised. Every payer's invoice
   is atomic: the chunk's insert runs in a savepoint, and if the database refuses it
   (a charge already exists - UNIQUE (line, period start, kind) - or overlaps another
   period of its line, a one-off line was invoiced meanwhile, or a line was deleted
   meanwhile), it is rolled back and each invoice is stored in a savepoint of its own,
   so only the payer concerned fails and is listed. Foreign keys are checked inside the
   savepoint (`_checked_now`), not at commit, where a deleted line would fail the whole
   chunk. Thousands of invoices cost one commit per chunk, not one each.
4. `billing_run_finish` closes the run once no chunk is pending. A run that made no
   invoice and had no failure (the month run again) is marked `nothing_new`: done, so
   the scheduler counts the month as billed, but left out of the run list, and the
   start page says "nothing new to bill" instead of showing an empty run.

A worker killed in the middle loses its chunk's transaction (nothing of it is stored);
the task is redelivered (acks_late), or - sooner - the chunk's heartbeat ages and the
scheduler hands it on (`billing_run_stalled_resume`), or the month is run again, and the
engine bills exactly what is still due: the union of both runs equals one clean run.
A document whose charges sum to less than zero is issued as a credit note that
references the invoices it corrects (`_document_spec`), never as a negative invoice.

Decisions: payer data is checked before writing (documents.bulk.invoice_problem), so a
payer without billing address is a failure of its own invoice only. Holds, suspended
folders and billing-date overrides are skips; their periods are caught up by the first
run after (nothing is lost). Contract alerts (actions and renewal quotes) are raised by
a daily check (`contract_alerts_create`, from the daily beat task), not by the monthly
run, so a notice deadline mid-month is not noticed two weeks late.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from customers import services as customer_services
from customers.models import DeliveryMethod
from documents import bulk
from documents import services as document_services
from documents import texts as doc_texts
from documents.models import Document, DocumentKind, DocumentStatus
from folders import services as folder_services
from folders.models import Folder, FolderStatus, OneOffLine, RecurringLine
from organizations.audit import audit_log
from organizations.bulk import insert_rows
from organizations.models import Membership
from organizations.months import first_of_month_after
from organizations.services import organization_lock
from organizations.system_texts import render_text, system_text

from . import planning
from . import system_texts as _system_texts  # noqa: F401 - registers the codes used below
from .models import (
    ACTIVE_STATUSES,
    AlertKind,
    BillingCharge,
    BillingRun,
    BillingRunChunk,
    BillingRunFailure,
    BillingRunItem,
    BillingRunSkip,
    ChunkStatus,
    ContractAlert,
    FailureReason,
    RunStatus,
    RunTrigger,
    SkipReason,
)

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
DEFAULT_CHUNK_SIZE = 500
# Days before a term end / notice deadline an action is raised, unless the folder says.
DEFAULT_ALERT_DAYS = 90


def chunk_size() -> int:
    return max(1, int(getattr(settings, "BILLING_CHUNK_SIZE", DEFAULT_CHUNK_SIZE)))


def render_pdfs_default() -> bool:
    """PDFs are rendered after commit, one task each; the benchmark switches this off
    (BILLING_RENDER_PDFS=False) - they are then rendered on first send or download."""
    default = os.environ.get("BILLING_RENDER_PDFS", "1").lower() not in ("0", "false", "no")
    return bool(getattr(settings, "BILLING_RENDER_PDFS", default))


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


# --- preview ---------------------------------------------------------------------------


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
    period = _check_period(period)
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


def _plan(
    organization, customer_ids: Sequence[int], *, period: dt.date, as_of: dt.date
) -> list[planning.AccountPlan]:
    """The chunk's plan; an unexpected error in one account fails that account only."""
    return planning.plan_accounts(
        organization=organization, customer_ids=customer_ids, period=period, as_of=as_of
    )


def _check_period(period: dt.date) -> dt.date:
    if period.day != 1:
        raise ValidationError({"period": _("A billing run covers a month; its period starts on the 1st.")})
    return period


# --- starting a run --------------------------------------------------------------------


def _already_running() -> ValidationError:
    return ValidationError(
        _("A billing run of this organization is already queued or running. Wait until it has finished."),
        code="run_active",
    )


def billing_run_start(
    *,
    organization,
    period: dt.date,
    user,
    as_of: dt.date | None = None,
    trigger: str = RunTrigger.MANUAL,
    render_pdfs: bool | None = None,
    dispatch: bool = True,
) -> BillingRun:
    """Queue a billing run of `organization` for the month `period` (its first day).

    After commit the run is handed to Celery (`billing_run_task`); with `dispatch=False`
    the caller executes it (`billing_run_execute`, used by the `bill` command and the
    demo). Refused while another run of the organization is queued or running, for a
    month after next, and without the issuer data every invoice needs.
    """
    period = _check_period(period)
    as_of = as_of or timezone.localdate()
    if period > first_of_month_after(month_of(as_of), 1):
        raise ValidationError(
            {
                "period": _("Invoices can be made at most one month ahead (up to %(month)s).")
                % {"month": first_of_month_after(month_of(as_of), 1).strftime("%m/%Y")}
            }
        )
    problem = bulk.issuer_problem(organization)
    if problem is not None:
        raise problem
    _check_issue_date(organization, as_of)
    run = BillingRun(
        organization=organization,
        period=period,
        as_of=as_of,
        status=RunStatus.PENDING,
        trigger=trigger,
        started_by=user if getattr(user, "is_authenticated", False) else None,
        render_pdfs=render_pdfs_default() if render_pdfs is None else render_pdfs,
    )
    run.full_clean(validate_constraints=False)
    with transaction.atomic():
        # Waits for a billing-day change in progress, which in turn refuses while this
        # run is active (billing.selectors.billing_day_change_check).
        organization_lock(organization=organization)
        if BillingRun.objects.filter(organization=organization, status__in=ACTIVE_STATUSES).exists():
            raise _already_running()
        try:
            with transaction.atomic():
                run.save()
        except IntegrityError:
            raise _already_running()  # a second start in the same instant lost the race
        audit_log(
            organization=organization,
            user=user,
            action="billing_run.queued",
            obj=run,
            data={"message": system_text("billing.run_queued", month=period)},
        )
        if dispatch:
            transaction.on_commit(lambda: _dispatch(run))
    return run


def _check_issue_date(organization, as_of: dt.date) -> None:
    """A run issues its invoices dated `as_of`: never earlier than the newest invoice, so
    invoice numbers and dates ascend together."""
    latest = (
        Document.objects.filter(
            organization=organization, kind=DocumentKind.INVOICE, issue_date__isnull=False
        )
        .order_by("-issue_date")
        .values_list("issue_date", flat=True)
        .first()
    )
    if latest is not None and as_of < latest:
        raise ValidationError(
            {
                "as_of": _(
                    "An invoice was already issued on %(date)s; a billing run cannot issue invoices dated "
                    "earlier (numbers and dates must ascend together)."
                )
                % {"date": date_format(latest, "SHORT_DATE_FORMAT")}
            }
        )


def billing_run_refused(*, organization, period: dt.date, error: str) -> BillingRun:
    """Record that a scheduled run of `period` could not start: one failed run per month
    and reason, its time updated on each further attempt."""
    now = timezone.now()
    run = (
        BillingRun.objects.filter(
            organization=organization,
            period=period,
            status=RunStatus.FAILED,
            trigger=RunTrigger.SCHEDULE,
            error=error,
        )
        .order_by("-pk")
        .first()
    )
    if run is None:
        run = BillingRun.objects.create(
            organization=organization,
            period=period,
            as_of=timezone.localdate(),
            status=RunStatus.FAILED,
            trigger=RunTrigger.SCHEDULE,
            started_at=now,
            finished_at=now,
            error=error,
            log=[],
        )
    else:
        BillingRun.objects.filter(pk=run.pk).update(finished_at=now)
    return run


def billing_run_resume(*, run: BillingRun, user) -> BillingRun:
    """Hand the run to the workers again (after a lost task or a failure): planning and
    chunks are idempotent, so what was billed stays billed and the rest is billed now."""
    if not run.can_resume:
        raise ValidationError(_("This billing run cannot be resumed."), code="not_resumable")
    if (
        run.status == RunStatus.FAILED
        and BillingRun.objects.filter(
            organization_id=run.organization_id, status__in=ACTIVE_STATUSES
        ).exists()
    ):
        raise _already_running()
    audit_log(
        organization=run.organization,
        user=user,
        action="billing_run.resumed",
        obj=run,
        data={"message": system_text("billing.run_resumed")},
    )
    transaction.on_commit(lambda: _dispatch(run))
    return run


def billing_run_as_of_set(*, run: BillingRun, as_of: dt.date, user) -> BillingRun:
    """Move the date of a run not finished yet (`bill --as-of` resuming it): the chunks
    still to bill judge holds on it and date their invoices so. Refused before the
    newest invoice, like a start on that day."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().select_related("organization").get(pk=run.pk)
        if not run.can_resume:
            raise ValidationError(_("This billing run cannot be resumed."), code="not_resumable")
        _check_issue_date(run.organization, as_of)
        if run.as_of == as_of:
            return run
        previous, run.as_of = run.as_of, as_of
        message = system_text("billing.run_dated", old=previous, new=as_of)
        _log(run, message)
        run.save(update_fields=["as_of", "log"])
        audit_log(
            organization=run.organization,
            user=user,
            action="billing_run.dated",
            obj=run,
            data={"message": message},
        )
    return run


# --- runs that stand still -------------------------------------------------------------


def stale_after() -> dt.timedelta:
    """How long a chunk may go without a heartbeat before its worker counts as lost: longer
    than the longest a chunk may take (its task's time limit), see config/settings."""
    return dt.timedelta(seconds=int(getattr(settings, "BILLING_CHUNK_STALE_AFTER", 660)))


def _heartbeat(chunk_id: int) -> None:
    """Stamp the chunk as being worked on now, committed at once (outside the chunk's
    transaction, which nobody else sees until it commits). Waits while another delivery
    of the chunk holds it, and then leaves a chunk that was done meanwhile alone."""
    BillingRunChunk.objects.filter(pk=chunk_id, status=ChunkStatus.PENDING).update(
        last_progress_at=timezone.now()
    )


def _stalled_chunk_ids(run: BillingRun, cutoff: dt.datetime) -> list[int]:
    """Pending chunks whose worker is gone: started (heartbeat) but silent since `cutoff`;
    or never started while the whole run has not moved since then (their message lost)."""
    pending = run.chunks.filter(status=ChunkStatus.PENDING)
    silent = Q(last_progress_at__lt=cutoff)
    run_moved = max(filter(None, [run.last_progress_at, run.started_at, run.created_at]))
    if run_moved < cutoff and not run.chunks.filter(last_progress_at__gte=cutoff).exists():
        silent |= Q(last_progress_at__isnull=True)
    return list(pending.filter(silent).order_by("index").values_list("pk", flat=True))


def billing_run_stalled_resume(*, run: BillingRun, now: dt.datetime | None = None) -> list[int]:
    """Hand a queued or running run back to the workers if it stands still (a worker was
    killed mid-chunk, a message was lost): the stalled chunks are dispatched again, a run
    never planned is planned again, a run whose last chunk is done but was not closed is
    closed. Returns the chunks dispatched.

    Idempotent: the chunks handed on get a fresh heartbeat, so checking again (the next
    scheduler tick, the run page reloading) does nothing until they stall once more; and
    a chunk delivered twice is billed once (its row lock, its status). Called by the
    scheduler every few minutes and by the run page, so nobody has to press Resume."""
    now = now or timezone.now()
    cutoff = now - stale_after()
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().select_related("organization").get(pk=run.pk)
        if not run.is_active:
            return []
        if run.status == RunStatus.PENDING:
            if max(filter(None, [run.last_progress_at, run.created_at])) >= cutoff:
                return []
            run.last_progress_at = now
            run.save(update_fields=["last_progress_at"])
            _stalled_audit(run, system_text("billing.run_not_picked_up"))
            transaction.on_commit(lambda: _dispatch(run))
            return []
        if not run.chunks.filter(status=ChunkStatus.PENDING).exists():
            # Every chunk is done, but the last one's task died before closing the run.
            if max(filter(None, [run.last_progress_at, run.started_at, run.created_at])) >= cutoff:
                return []
            finish = True
            chunk_ids: list[int] = []
        else:
            finish = False
            chunk_ids = _stalled_chunk_ids(run, cutoff)
            if not chunk_ids:
                return []
            BillingRunChunk.objects.filter(pk__in=chunk_ids).update(last_progress_at=now)
            message = system_text(
                "billing.chunks_stalled",
                count=len(chunk_ids),
                minutes=max(1, int(stale_after().total_seconds() // 60)),
            )
            _log(run, message, level="warning")
            run.last_progress_at = now
            run.save(update_fields=["log", "last_progress_at"])
            _stalled_audit(run, message)
            organization_id = run.organization_id
            transaction.on_commit(lambda: _dispatch_chunks(run.pk, chunk_ids, organization_id))
    if finish:
        billing_run_finish(run.pk)
    return chunk_ids


def _stalled_audit(run: BillingRun, message: dict) -> None:
    audit_log(
        organization=run.organization,
        user=None,
        action="billing_run.resumed",
        obj=run,
        data={"message": message, "automatic": True},
    )


def billing_runs_stalled_resume(*, organization, now: dt.datetime | None = None) -> list[int]:
    """`billing_run_stalled_resume` for every queued or running run of the organization."""
    dispatched: list[int] = []
    for run in BillingRun.objects.filter(organization=organization, status__in=ACTIVE_STATUSES):
        dispatched += billing_run_stalled_resume(run=run, now=now)
    return dispatched


def _dispatch_chunks(run_id: int, chunk_ids: Sequence[int], organization_id: int) -> None:
    from .tasks import billing_chunk_task

    for chunk_id in chunk_ids:
        billing_chunk_task.delay(run_id, chunk_id, organization_id)


def _dispatch(run: BillingRun) -> None:
    from .tasks import billing_run_task

    billing_run_task.delay(run.pk, run.organization_id)


def _log(run: BillingRun, message: str | dict, level: str = "info") -> None:
    """Append to the run's log. `message` is a system text (a code rendered in the reader's
    language), or plain text where it comes from outside (an exception)."""
    run.log = [
        *run.log,
        {"at": timezone.now().isoformat(timespec="seconds"), "level": level, "message": message},
    ]


# --- executing --------------------------------------------------------------------------


def billing_run_plan(run_id: int) -> list[int]:
    """Mark the run running and cut its billing accounts into chunks (once); returns the
    ids of the chunks still pending. Idempotent: a redelivered task gets the rest."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        if run.status not in (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.FAILED):
            return []
        if not run.chunks.exists():
            accounts = planning.account_ids(organization=run.organization, period=run.period)
            size = chunk_size()
            BillingRunChunk.objects.bulk_create(
                BillingRunChunk(
                    organization_id=run.organization_id, run=run, index=n, customer_ids=accounts[i : i + size]
                )
                for n, i in enumerate(range(0, len(accounts), size))
            )
            run.payers_total = len(accounts)
            run.chunks_total = (len(accounts) + size - 1) // size
            _log(run, system_text("billing.run_planned", accounts=len(accounts), chunks=run.chunks_total))
        elif run.status == RunStatus.FAILED:
            # Resume: the failed chunks get another chance; done chunks stay done.
            run.chunks.filter(status=ChunkStatus.FAILED).update(status=ChunkStatus.PENDING, error="")
            _log(run, system_text("billing.run_resumed_log"))
        if run.status != RunStatus.RUNNING:
            if (
                run.status == RunStatus.FAILED
                and BillingRun.objects.filter(organization_id=run.organization_id, status__in=ACTIVE_STATUSES)
                .exclude(pk=run.pk)
                .exists()
            ):
                raise _already_running()
            run.status = RunStatus.RUNNING
            run.started_at = run.started_at or timezone.now()
            run.finished_at = None
            run.error = ""
        run.last_progress_at = timezone.now()
        run.save()
        return list(
            run.chunks.filter(status=ChunkStatus.PENDING).order_by("index").values_list("pk", flat=True)
        )


def billing_run_execute(run_id: int, *, progress: Callable[[int, int], None] | None = None) -> BillingRun:
    """Run a whole billing run in this process (the `bill` command, the demo): plan,
    every pending chunk in turn, finish. A chunk that raises is recorded as failed
    (nothing of it stored) and the others go on. `progress(done, total)` is called with
    billing accounts after planning and after every chunk."""
    chunk_ids = billing_run_plan(run_id)
    run = BillingRun.objects.get(pk=run_id)
    done, total = run.payers_done, run.payers_total
    if progress is not None:
        progress(done, total)
    for chunk_id in chunk_ids:
        try:
            chunk = billing_chunk_execute(run_id=run_id, chunk_id=chunk_id)
        except Exception as exc:  # noqa: BLE001 - recorded on the run, never silent
            logger.exception("billing run %s: chunk %s failed", run_id, chunk_id)
            chunk = billing_chunk_fail(run_id=run_id, chunk_id=chunk_id, error=repr(exc))
        if chunk.status == ChunkStatus.DONE:
            done += len(chunk.customer_ids)
        if progress is not None:
            progress(done, total)
    return billing_run_finish(run_id)


class StaleOneOffs(Exception):
    """One-off lines of an invoice were invoiced by someone else since they were read."""


@contextlib.contextmanager
def _fewer_gc_pauses():
    """A chunk allocates millions of short-lived objects that reference counting frees;
    the cyclic collector's frequent young-generation passes over them cost ~10 % of a
    run. Collect less often while a chunk runs, as usual afterwards."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def billing_chunk_execute(*, run_id: int, chunk_id: int) -> BillingRunChunk:
    """Bill one chunk in one transaction (see the module docstring). Idempotent: a chunk
    already done is returned as it is; a rolled-back attempt left nothing behind."""
    with _fewer_gc_pauses():
        return _chunk_execute(run_id=run_id, chunk_id=chunk_id)


def _chunk_execute(*, run_id: int, chunk_id: int) -> BillingRunChunk:
    run = BillingRun.objects.select_related("organization", "started_by").get(pk=run_id)
    _heartbeat(chunk_id)
    with transaction.atomic():
        chunk = BillingRunChunk.objects.select_for_update().get(pk=chunk_id, run_id=run_id)
        if chunk.status == ChunkStatus.DONE or run.status != RunStatus.RUNNING:
            return chunk
        plans = _plan(run.organization, chunk.customer_ids, period=run.period, as_of=run.as_of)
        invoices = [invoice for plan in plans for invoice in plan.invoices]
        failures = [failure for plan in plans for failure in plan.failures]
        skips = [skip for plan in plans for skip in plan.skips]
        try:
            with transaction.atomic(), _checked_now():
                stored = _store(run, invoices)
        except (DatabaseError, ValidationError, StaleOneOffs):
            stored = []
            for invoice in invoices:
                try:
                    with transaction.atomic(), _checked_now():
                        stored += _store(run, [invoice])
                except (DatabaseError, ValidationError, StaleOneOffs) as exc:
                    failures.append(_concurrent_failure(invoice, exc))
        _record(run, skips, failures)
        net = sum((document.total_net for document in stored), ZERO)
        tax = sum((document.total_tax for document in stored), ZERO)
        gross = sum((document.total_gross for document in stored), ZERO)
        charges = sum(len(invoice.charges) for invoice in invoices if invoice.stored)
        chunk.status = ChunkStatus.DONE
        chunk.attempts += 1
        chunk.invoices_count = len(stored)
        chunk.finished_at = chunk.last_progress_at = timezone.now()
        chunk.save()
        BillingRun.objects.filter(pk=run.pk).update(
            last_progress_at=chunk.finished_at,
            payers_done=F("payers_done") + len(chunk.customer_ids),
            chunks_done=F("chunks_done") + 1,
            invoices_count=F("invoices_count") + len(stored),
            charges_count=F("charges_count") + charges,
            skipped_count=F("skipped_count") + len(skips),
            failed_count=F("failed_count") + len(failures),
            total_net=F("total_net") + net,
            total_tax=F("total_tax") + tax,
            total_gross=F("total_gross") + gross,
        )
    return chunk


@contextlib.contextmanager
def _checked_now():
    """Check foreign keys at each statement inside the caller's savepoint.

    They are deferred to commit by default, which is outside every payer's savepoint:
    a recurring line deleted while the chunk ran would fail the chunk's commit and with
    it every payer of the chunk. Checked here, it fails the savepoint of the payer whose
    charge refers to it, which is rolled back and listed. (SQLite runs one writer at a
    time: nothing can be deleted under a chunk there.)"""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    # Back to the default for the rest of the chunk; a savepoint rolled back undoes the
    # setting by itself.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _concurrent_failure(invoice: planning.PlannedInvoice, exc: Exception) -> planning.Failure:
    if isinstance(exc, ValidationError):
        message = " ".join(exc.messages)
    else:
        message = _(
            "Something was billed or invoiced by someone else during the run; run the month again "
            "to bill what is still due."
        )
    return planning.Failure(
        reason=FailureReason.CONCURRENT, message=message, payer=invoice.payer, folder=invoice.folder
    )


def _lock_oneoffs(invoices: Sequence[planning.PlannedInvoice]) -> None:
    ids = {line.pk for invoice in invoices for line in invoice.oneoffs}
    if not ids:
        return
    still_open = set(
        OneOffLine.objects.select_for_update()
        .filter(pk__in=ids, invoice_document_id__isnull=True)
        .values_list("pk", flat=True)
    )
    if still_open != ids:
        raise StaleOneOffs(sorted(ids - still_open))


def _document_spec(invoice: planning.PlannedInvoice) -> bulk.InvoiceSpec:
    """What to issue for a planned invoice: the invoice; or, when its charges sum to less
    than zero (a price cut, a line ended after it was billed in advance), a credit note
    that references the invoices whose periods it corrects - a negative invoice would
    name nothing it corrects and sit in the invoice range (§ 14 UStG, GoBD). Each credit
    line reverses the invoice line that billed its days, as a credit note by line does;
    the newest corrected invoice is the credit note's reference. Charges and credits
    together on one invoice stay an invoice as long as the total is positive."""
    spec = invoice.to_spec()
    if invoice.totals().gross >= ZERO:
        return spec
    reversed_lines = _reversed_lines(invoice)
    lines = list(spec.lines)
    for index, line_id in reversed_lines.items():
        lines[index] = dataclasses.replace(lines[index], reverses_id=line_id)
    corrects = list(
        Document.objects.filter(
            organization_id=invoice.payer.organization_id, lines__pk__in=set(reversed_lines.values())
        )
        .distinct()
        .order_by("issue_date", "pk")
    )
    return dataclasses.replace(spec, kind=DocumentKind.CREDIT_NOTE, lines=lines, corrects=corrects)


def _reversed_lines(invoice: planning.PlannedInvoice) -> dict[int, int]:
    """{index of a credit line: the invoice line that billed the days it credits}: the
    newest charge of the same recurring line and period covering its first day."""
    credits = [
        (index, line, charge) for index, line, charge, _version in invoice.charges if charge.amount < ZERO
    ]
    if not credits:
        return {}
    periods = Q()
    for _index, line, charge in credits:
        periods |= Q(recurring_line_id=line.pk, period_start=charge.period_start)
    billed = defaultdict(list)
    for row in (
        BillingCharge.objects.filter(periods, amount__gt=ZERO, document__kind=DocumentKind.INVOICE)
        .filter(organization_id=invoice.payer.organization_id, document_line__isnull=False)
        .order_by("-id")
        .values("recurring_line_id", "period_start", "service_start", "service_end", "document_line_id")
    ):
        billed[row["recurring_line_id"], row["period_start"]].append(row)
    found = {}
    for index, line, charge in credits:
        for row in billed[line.pk, charge.period_start]:
            if row["service_start"] <= charge.service_start <= row["service_end"]:
                found[index] = row["document_line_id"]
                break
    return found


def _store(run: BillingRun, invoices: Sequence[planning.PlannedInvoice]) -> list:
    """Issue `invoices` and store everything that belongs to them, in the caller's
    transaction; returns the documents."""
    if not invoices:
        return []
    organization = run.organization
    user = run.started_by
    _lock_oneoffs(invoices)
    specs = [_document_spec(invoice) for invoice in invoices]
    built = bulk.invoices_issue_bulk(
        organization=organization,
        specs=specs,
        user=user,
        issue_date=run.as_of,
        billing_run_id=run.pk,
        render_pdfs=run.render_pdfs,
    )
    charges: list[dict] = []
    items: list[dict] = []
    through: dict[dt.date, list[int]] = defaultdict(list)
    elsewhere: dict[dt.date, list[int]] = defaultdict(list)
    for invoice, (document, line_ids) in zip(invoices, built, strict=True):
        for index, line, charge, version in invoice.charges:
            charges.append(
                {
                    "organization_id": organization.pk,
                    "recurring_line_id": line.pk,
                    "period_start": charge.period_start,
                    "period_end": charge.period_end,
                    "kind": charge.kind,
                    "service_start": charge.service_start,
                    "service_end": charge.service_end,
                    "quantity": charge.quantity,
                    "unit_price": charge.unit_price,
                    "amount": charge.amount,
                    "reason": charge.description,
                    "terms_version": version,
                    "run_id": run.pk,
                    "document_id": document.pk,
                    "document_line_id": line_ids[index],
                }
            )
        for billing in invoice.lines:
            if billing.billed_through is not None and billing.billed_through != billing.line.billed_through:
                through[billing.billed_through].append(billing.line.pk)
            if billing.taken_over_through is not None:
                elsewhere[billing.taken_over_through].append(billing.line.pk)
        if invoice.oneoffs:
            folder_services.oneoff_lines_mark_invoiced(lines=invoice.oneoffs, document=document, user=user)
        folder = invoice.folder
        items.append(
            {
                "organization_id": organization.pk,
                "run_id": run.pk,
                "document_id": document.pk,
                "payer_id": invoice.payer.pk,
                "customer_id": invoice.customer.pk,
                "folder_id": folder.pk if folder is not None else None,
                "folders_count": len(invoice.folders),
                "lines_count": len(line_ids),
                "total_net": document.total_net,
                "total_gross": document.total_gross,
            }
        )
    # The database refuses a second charge for a line, period and kind (unique): if
    # someone billed one of these meanwhile, this raises and the savepoint rolls back.
    insert_rows(BillingCharge, charges, ids=False)
    # billed_through only moves forward, in this same transaction (one UPDATE per date).
    for day, line_ids in through.items():
        RecurringLine.objects.filter(pk__in=line_ids).filter(
            Q(billed_through__isnull=True) | Q(billed_through__lt=day)
        ).update(billed_through=day)
    # A line taken over from an earlier system keeps what was billed there settled for
    # good, however far this system's own billing moves on.
    for day, line_ids in elsewhere.items():
        RecurringLine.objects.filter(pk__in=line_ids, billed_elsewhere_through__isnull=True).update(
            billed_elsewhere_through=day
        )
    insert_rows(BillingRunItem, items, ids=False)
    _close_credited(run, [spec for spec in specs if spec.corrects])
    for invoice in invoices:
        invoice.stored = True
    return [document for document, _lines in built]


def _close_credited(run: BillingRun, credit_specs: Sequence[bulk.InvoiceSpec]) -> None:
    """An invoice the run's credit notes (with earlier ones) credited in full is closed,
    as a partial credit note reaching it would close it."""
    corrected = {document.pk: document for spec in credit_specs for document in spec.corrects}
    for document in corrected.values():
        document_services.invoice_close_if_credited(
            invoice=document,
            user=run.started_by,
            reason=_("Credited by billing run %(run)s.") % {"run": run},
        )


def _record(run: BillingRun, skips: Sequence[planning.Skip], failures: Sequence[planning.Failure]) -> None:
    insert_rows(
        BillingRunSkip,
        [
            {
                "organization_id": run.organization_id,
                "run_id": run.pk,
                "folder_id": skip.folder.pk,
                "customer_id": skip.folder.customer_id,
                "reason": skip.reason,
                "message": (skip.message or "")[:300],
                "until": skip.until,
            }
            for skip in skips
        ],
        ids=False,
    )
    insert_rows(
        BillingRunFailure,
        [
            {
                "organization_id": run.organization_id,
                "run_id": run.pk,
                "payer_id": failure.payer.pk if failure.payer else None,
                "folder_id": failure.folder.pk if failure.folder else None,
                "recurring_line_id": failure.line.pk if failure.line else None,
                "reason": failure.reason,
                "message": failure.message,
            }
            for failure in failures
        ],
        ids=False,
    )


def billing_chunk_fail(*, run_id: int, chunk_id: int, error: str) -> BillingRunChunk:
    """A chunk that kept failing: recorded, so the run can finish (as failed) and be
    resumed or run again; nothing of the chunk was stored."""
    with transaction.atomic():
        chunk = BillingRunChunk.objects.select_for_update().get(pk=chunk_id, run_id=run_id)
        if chunk.status == ChunkStatus.DONE:
            return chunk
        chunk.status = ChunkStatus.FAILED
        chunk.attempts += 1
        chunk.error = error[:2000]
        chunk.save()
    return chunk


def billing_run_fail(*, run_id: int, error: str) -> BillingRun:
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        if run.status in (RunStatus.DONE, RunStatus.PREVIEWED):
            return run
        run.status = RunStatus.FAILED
        run.error = error[:4000]
        run.finished_at = timezone.now()
        _log(run, error[:500], level="error")
        run.save()
    return run


def billing_run_finish(run_id: int) -> BillingRun:
    """Close the run once no chunk is pending: done, or failed if a chunk failed."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING:
            return run
        statuses = Counter(run.chunks.values_list("status", flat=True))
        if statuses[ChunkStatus.PENDING]:
            return run
        failed = statuses[ChunkStatus.FAILED]
        run.status = RunStatus.FAILED if failed else RunStatus.DONE
        run.finished_at = timezone.now()
        if failed:
            message = system_text("billing.run_chunks_failed", count=failed, total=run.chunks_total)
            run.error = render_text(message)
            _log(run, message, level="error")
        else:
            _log(
                run,
                system_text(
                    "billing.run_finished",
                    invoices=run.invoices_count,
                    skipped=run.skipped_count,
                    failed=run.failed_count,
                ),
            )
        run.save()
        if not failed and run.render_pdfs and run.invoices_count:
            transaction.on_commit(lambda: _dispatch_invoices(run))
        audit_log(
            organization=run.organization,
            user=run.started_by,
            action="billing_run.finished" if not failed else "billing_run.failed",
            obj=run,
            data={
                "message": run.log[-1]["message"] if run.log else "",
                "invoices": run.invoices_count,
                "gross": str(run.total_gross),
            },
        )
    return run


def _dispatch_invoices(run: BillingRun) -> None:
    from .tasks import billing_run_dispatch_task

    billing_run_dispatch_task.delay(run.pk, run.organization_id)


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
        _log(run, message, level="warning" if counts["no_recipient"] else "info")
        run.save(update_fields=["log"])
    return dict(counts)


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


# --- contract lifecycle ----------------------------------------------------------------------


def _assignee(folder: Folder):
    for user in (folder.owner, folder.customer.owner):
        if (
            user is not None
            and Membership.objects.filter(organization_id=folder.organization_id, user=user).exists()
        ):
            return user
    return None


def _events(folder: Folder, today: dt.date) -> list[tuple[str, dt.date]]:
    days = folder.alert_days_before_end if folder.alert_days_before_end is not None else DEFAULT_ALERT_DAYS
    horizon = today + dt.timedelta(days=days)
    events = []
    end = folder.compute_contract_end(today)
    if end is not None and today <= end <= horizon:
        events.append((AlertKind.TERM_END, end))
    deadline = folder.notice_deadline_on(today)
    if deadline is not None and today <= deadline <= horizon:
        events.append((AlertKind.NOTICE_DEADLINE, deadline))
    return events


def _alert_text(folder: Folder, kind: str, day: dt.date, today: dt.date, quote) -> dict:
    """The alert as a system text (billing.system_texts renders it in the reader's language)."""
    if kind == AlertKind.NOTICE_DEADLINE:
        variant, end = "notice_deadline", folder.term_end_on(today)
    else:
        variant = "contract_ends" if folder.end_date else "term_renews" if folder.auto_renew else "term_ends"
        end = None
    return system_text(
        "billing.contract_alert",
        kind=variant,
        folder=f"{folder.number} {folder.name}",
        date=day,
        end=end,
        quote=quote is not None,
    )


def _renewal_quote(folder: Folder, today: dt.date, term_end: dt.date):
    """A draft quote (no number) for the end customer: the folder's recurring services
    for the next term, via the documents services."""
    lines = [
        line
        for line in folder.recurring_lines.select_related("tax_rate", "product").order_by("position", "id")
        if line.end_date is None or line.end_date > term_end
    ]
    if not lines:
        return None
    customer = folder.customer
    language = doc_texts.lang_of(customer.language)
    specs = [document_services.recurring_spec(line, language, "") for line in lines]
    renewal_start = term_end + dt.timedelta(days=1)
    months = folder.renewal_term_months or min(folder.minimum_term_months or 12, 12)
    terms = (
        f"Verlängerung um {months} Monate ab {doc_texts.date(language, renewal_start)}."
        if language == "de"
        else f"Renewal for {months} months from {doc_texts.date(language, renewal_start)}."
    )
    return document_services.document_draft_create(
        organization=folder.organization,
        kind=DocumentKind.QUOTE,
        user=None,
        customer=customer,
        payer=customer,
        lines=specs,
        folder=folder,
        valid_until=max(today + dt.timedelta(days=document_services.DEFAULT_QUOTE_VALIDITY_DAYS), today),
        terms_text=terms,
    )


def contract_alerts_create(*, organization, today: dt.date | None = None) -> list[ContractAlert]:
    """Raise the contract-end and notice-deadline alerts due today (daily, idempotent).

    For each active folder whose term ends, or whose notice deadline passes, within its
    alert days (default 90): an action for the folder's account manager (the customer's
    when the folder has none), listed in the action calendar on the event day; with
    "renewal quote" on, a draft renewal quote for the end customer at the term end.
    Each alert is raised once per folder, kind and date (ContractAlert, and the action's
    `source`); a renewed term has a new date and raises a new alert.
    """
    today = today or timezone.localdate()
    created: list[ContractAlert] = []
    folders = (
        Folder.objects.filter(
            organization=organization, status__in=[FolderStatus.ACTIVE, FolderStatus.SUSPENDED]
        )
        .filter(start_date__isnull=False)
        .filter(Q(minimum_term_months__gt=0) | Q(end_date__isnull=False))
        .select_related("customer__owner", "owner")
    )
    raised = set(
        ContractAlert.objects.filter(organization=organization, event_date__gte=today).values_list(
            "folder_id", "kind", "event_date"
        )
    )
    with translation.override(settings.LANGUAGE_CODE):
        for folder in folders.iterator(chunk_size=2000):
            folder.organization = organization
            for kind, day in _events(folder, today):
                if (folder.pk, kind, day) in raised:
                    continue
                try:
                    with transaction.atomic():
                        quote = None
                        if kind == AlertKind.TERM_END and folder.auto_renewal_quote and not folder.end_date:
                            quote = _renewal_quote(folder, today, day)
                        text = _alert_text(folder, kind, day, today, quote)
                        action = customer_services.action_create(
                            customer=folder.customer,
                            user=None,
                            due_on=day,
                            description=render_text(text),
                            system_text=text,
                            assignee=_assignee(folder),
                            source=f"billing:{kind}:{folder.pk}:{day.isoformat()}",
                        )
                        created.append(
                            ContractAlert.objects.create(
                                organization=organization,
                                folder=folder,
                                kind=kind,
                                event_date=day,
                                action=action,
                                quote=quote,
                            )
                        )
                except (ValidationError, IntegrityError):
                    logger.exception("contract alert for folder %s could not be raised", folder.pk)
    return created
