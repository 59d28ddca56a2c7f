"""Runs that stand still: a worker killed mid-chunk, a task message lost.

A worker killed in the middle loses its chunk's transaction (nothing of it is stored);
the task is redelivered (acks_late), or - sooner - the chunk's heartbeat
(billing.chunks) ages and the scheduler hands it on (`billing_run_stalled_resume`), or
the month is run again, and the engine bills exactly what is still due: the union of
both runs equals one clean run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from organizations.audit import audit_log
from organizations.system_texts import system_text

from . import system_texts as _system_texts  # noqa: F401 - registers the codes used below
from .models import ACTIVE_STATUSES, BillingRun, BillingRunChunk, ChunkStatus, RunStatus
from .runs import append_log, billing_run_finish, queue_run


def stale_after() -> dt.timedelta:
    """How long a chunk may go without a heartbeat before its worker counts as lost: longer
    than the longest a chunk may take (its task's time limit), see config/settings."""
    return dt.timedelta(seconds=int(getattr(settings, "BILLING_CHUNK_STALE_AFTER", 660)))


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
            transaction.on_commit(lambda: queue_run(run))
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
            append_log(run, message, level="warning")
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
