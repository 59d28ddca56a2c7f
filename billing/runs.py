"""A billing run's lifecycle: start (or record a scheduled start refused), resume, move
its date, plan it into chunks, execute it in this process, fail it, finish it.

`billing_run_start` records a queued run (at most one queued/running run per
organization: a partial unique index) and, after commit, hands it to Celery
(`queue_run`). `billing_run_plan` (task `billing_run_task`) lists the billing accounts -
end customers owning a billable folder - and cuts them into chunks; the chunk rows are
the fan-out and make it idempotent. Each chunk is billed by billing.chunks.
`billing_run_finish` closes the run once no chunk is pending; a finished run's invoices
are then delivered by billing.dispatch.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections import Counter
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from documents import bulk
from documents.models import Document, DocumentKind
from organizations.audit import audit_log
from organizations.months import first_of_month_after
from organizations.services import organization_lock
from organizations.system_texts import render_text, system_text

from . import planning
from .chunks import billing_chunk_execute, billing_chunk_fail
from .models import ACTIVE_STATUSES, BillingRun, BillingRunChunk, ChunkStatus, RunStatus, RunTrigger
from .system_texts import exception_summary, exception_text

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 500


def chunk_size() -> int:
    return max(1, int(getattr(settings, "BILLING_CHUNK_SIZE", DEFAULT_CHUNK_SIZE)))


def render_pdfs_default() -> bool:
    """PDFs are rendered after commit, one task each; the benchmark switches this off
    (BILLING_RENDER_PDFS=False) - they are then rendered on first send or download."""
    default = os.environ.get("BILLING_RENDER_PDFS", "1").lower() not in ("0", "false", "no")
    return bool(getattr(settings, "BILLING_RENDER_PDFS", default))


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def check_period(period: dt.date) -> dt.date:
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
    period = check_period(period)
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
            transaction.on_commit(lambda: queue_run(run))
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
    and reason (`error`, the refusal's message), its time updated on each further attempt."""
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
            failure=system_text("billing.run_refused", reason=error),
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
    transaction.on_commit(lambda: queue_run(run))
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
        append_log(run, message)
        run.save(update_fields=["as_of", "log"])
        audit_log(
            organization=run.organization,
            user=user,
            action="billing_run.dated",
            obj=run,
            data={"message": message},
        )
    return run


# --- handing over to the workers, the run's log ---------------------------------------


def queue_run(run: BillingRun) -> None:
    """Hand the run to the workers (task `billing_run_task`)."""
    from .tasks import billing_run_task

    billing_run_task.delay(run.pk, run.organization_id)


def append_log(run: BillingRun, message: str | dict, level: str = "info") -> None:
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
            append_log(
                run, system_text("billing.run_planned", accounts=len(accounts), chunks=run.chunks_total)
            )
        elif run.status == RunStatus.FAILED:
            # Resume: the failed chunks get another chance; done chunks stay done.
            run.chunks.filter(status=ChunkStatus.FAILED).update(status=ChunkStatus.PENDING, error="")
            append_log(run, system_text("billing.run_resumed_log"))
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
            run.failure = {}
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
            chunk = billing_chunk_fail(run_id=run_id, chunk_id=chunk_id, error=exception_text(exc))
        if chunk.status == ChunkStatus.DONE:
            done += len(chunk.customer_ids)
        if progress is not None:
            progress(done, total)
    return billing_run_finish(run_id)


# --- closing -------------------------------------------------------------------------------


def run_failure(exc: BaseException) -> dict:
    """The stored reason of a run stopped by `exc` (a system text): a refusal's message,
    or an unexpected error's class and message."""
    if isinstance(exc, ValidationError):
        return system_text("billing.run_refused", reason=exception_summary(exc)["detail"])
    return system_text("billing.run_error", **exception_summary(exc))


def billing_run_fail(*, run_id: int, failure: dict) -> BillingRun:
    """Mark the run failed for `failure` (a system text, see `run_failure`)."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        if run.status in (RunStatus.DONE, RunStatus.PREVIEWED):
            return run
        run.status = RunStatus.FAILED
        run.failure = failure
        run.error = render_text(failure)[:4000]
        run.finished_at = timezone.now()
        append_log(run, failure, level="error")
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
            cause = (
                run.chunks.filter(status=ChunkStatus.FAILED)
                .exclude(error="")
                .order_by("index")
                .values_list("error", flat=True)
                .first()
            )
            message = system_text(
                "billing.run_chunks_failed", count=failed, total=run.chunks_total, cause=cause or ""
            )
            run.failure = message
            run.error = render_text(message)
            append_log(run, message, level="error")
        else:
            append_log(
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
