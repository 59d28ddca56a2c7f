"""Celery tasks of the billing run: thin, idempotent wrappers that re-enter the scope.

* `billing_run_task(run_id, organization_id)` plans the run (chunks of billing
  accounts) and fans out one `billing_chunk_task` per pending chunk.
* `billing_chunk_task(run_id, chunk_id, organization_id)` bills one chunk in one
  transaction; a chunk already done is a no-op, so redelivery (acks_late, a worker
  killed mid-chunk) and duplicate dispatch are harmless. Errors are retried with
  exponential backoff; a chunk that keeps failing is recorded as failed and the run
  finishes as failed (nothing of that chunk was stored; run the month again).
* `billing_run_dispatch_task(run_id, organization_id)` delivers the finished run's
  invoices: e-mail with PDF where the payer gets them so; the rest is counted per
  delivery method in the run log. Idempotent: a sent invoice is not sent again.
* `billing_beat_task()` runs daily early in the morning (CELERY_BEAT_SCHEDULE): the
  contract alerts of every organization, and the billing run of every organization
  whose billing day is today.
* `billing_stalled_task()` runs every five minutes: a queued or running run whose chunk
  has had no heartbeat for BILLING_CHUNK_STALE_AFTER (its worker was killed, its message
  lost) is handed to the workers again - no Resume click, no hour-long wait for the
  broker's visibility timeout. Idempotent: a chunk handed on gets a fresh heartbeat.

In eager mode (the default without a broker) everything runs inline, in order.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.exceptions import Retry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from organizations.models import Organization

logger = logging.getLogger(__name__)

MAX_RETRIES = 5


def _backoff(retries: int) -> int:
    """Seconds before the next attempt: 10, 20, 40 ... capped at 10 minutes, with jitter
    so that chunks failing together (a database restart) do not retry together."""
    return min(600, 10 * 2**retries) + random.randint(0, 5)  # noqa: S311 - not security relevant


def _with_retries(task, work):
    """`work()` with Celery retries and exponential backoff. Without a broker (eager
    mode) a retry cannot be queued, so the attempts are repeated inline instead."""
    attempts = 0
    while True:
        try:
            return work()
        except Exception as exc:
            if task.request.is_eager:
                attempts += 1
                if attempts <= task.max_retries:
                    logger.warning("%s failed, trying again: %r", task.name, exc)
                    continue
                raise
            if task.request.retries < task.max_retries:
                logger.warning("%s failed, retrying: %r", task.name, exc)
                raise task.retry(exc=exc, countdown=_backoff(task.request.retries))
            raise


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def billing_run_task(self, run_id: int, organization_id: int) -> int:
    """Plan the run and dispatch its chunks; returns how many were dispatched."""
    from . import services

    organization = Organization.objects.get(pk=organization_id)
    with scope(organization=organization):
        try:
            chunk_ids = _with_retries(self, lambda: services.billing_run_plan(run_id))
        except Retry:
            raise
        except ValidationError as exc:
            services.billing_run_fail(run_id=run_id, failure=services.run_failure(exc))
            return 0
        except Exception as exc:
            logger.exception("billing run %s could not be planned", run_id)
            services.billing_run_fail(run_id=run_id, failure=services.run_failure(exc))
            return 0
        for chunk_id in chunk_ids:
            billing_chunk_task.delay(run_id, chunk_id, organization_id)
        services.billing_run_finish(run_id)  # a run without accounts is done at once
        return len(chunk_ids)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
    # Shorter than the broker's visibility timeout and the heartbeat limit (settings).
    time_limit=settings.BILLING_CHUNK_TIME_LIMIT,
)
def billing_chunk_task(self, run_id: int, chunk_id: int, organization_id: int) -> str:
    """Bill one chunk (idempotent), then close the run if it was the last one."""
    from . import services

    organization = Organization.objects.get(pk=organization_id)
    with scope(organization=organization):
        try:
            chunk = _with_retries(
                self, lambda: services.billing_chunk_execute(run_id=run_id, chunk_id=chunk_id)
            )
        except Retry:
            raise
        except Exception as exc:
            logger.exception("billing run %s chunk %s failed for good", run_id, chunk_id)
            chunk = services.billing_chunk_fail(
                run_id=run_id, chunk_id=chunk_id, error=services.exception_text(exc)
            )
        services.billing_run_finish(run_id)
        return chunk.status


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def billing_run_dispatch_task(self, run_id: int, organization_id: int) -> dict[str, int]:
    from . import services

    organization = Organization.objects.get(pk=organization_id)
    with scope(organization=organization):
        return _with_retries(self, lambda: services.billing_run_dispatch(run_id))


@shared_task(acks_late=True)
def billing_beat_task() -> dict[str, int]:
    """Daily: contract alerts everywhere; billing runs from the billing day on.

    The run of the month is started on the organization's billing day, or on a later day
    of the month if that day was missed or its run failed: a done, queued or running run
    of the month counts, a failed one does not, so the next day tries again. A run that
    found nothing new to bill is done too (kept off the run list, not off the record), so
    a month with nothing to bill is not tried again every day. A start that
    is refused (e.g. the organization's tax data is missing) is recorded as a failed run,
    so the billing-run list shows why nothing was billed.
    """
    from . import services
    from .models import BillingRun, RunStatus, RunTrigger

    today = timezone.localdate()
    started = alerts = 0
    for organization in Organization.objects.order_by("pk"):
        with scope(organization=organization):
            _resume_stalled(services, organization)
            try:
                alerts += len(services.contract_alerts_create(organization=organization, today=today))
            except Exception:  # noqa: BLE001 - one organization never stops the others
                logger.exception("contract alerts of %s failed", organization.slug)
            run_day = min(max(organization.billing_day or 1, 1), 28)
            if today.day < run_day:
                continue
            period = today.replace(day=1)
            if (
                BillingRun.objects.filter(organization=organization, period=period)
                .exclude(status__in=[RunStatus.FAILED, RunStatus.PREVIEWED])
                .exists()
            ):
                continue
            try:
                services.billing_run_start(
                    organization=organization, period=period, user=None, trigger=RunTrigger.SCHEDULE
                )
                started += 1
            except ValidationError as exc:
                logger.warning("billing run of %s not started: %s", organization.slug, " ".join(exc.messages))
                services.billing_run_refused(
                    organization=organization, period=period, error=" ".join(exc.messages)
                )
    return {"runs": started, "alerts": alerts}


def _resume_stalled(services, organization) -> int:
    try:
        return len(services.billing_runs_stalled_resume(organization=organization))
    except Exception:  # noqa: BLE001 - one organization never stops the others
        logger.exception("stalled billing runs of %s could not be resumed", organization.slug)
        return 0


@shared_task(acks_late=True)
def billing_stalled_task() -> int:
    """Every few minutes: hand runs that stand still back to the workers (see
    services.billing_run_stalled_resume); returns how many chunks were handed on."""
    from . import services
    from .models import ACTIVE_STATUSES, BillingRun

    dispatched = 0
    active = BillingRun.objects.filter(status__in=ACTIVE_STATUSES).values_list("organization_id", flat=True)
    with scopes_disabled():
        organization_ids = sorted(set(active))
    for organization in Organization.objects.filter(pk__in=organization_ids).order_by("pk"):
        with scope(organization=organization):
            dispatched += _resume_stalled(services, organization)
    return dispatched
