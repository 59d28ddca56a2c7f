"""A run whose worker died mid-chunk does not stand still: its chunk's heartbeat ages,
and the scheduler (or the run page) hands the chunk on without anyone pressing Resume.

The worker's death is simulated here by a chunk that was started (heartbeat stamped)
and never finished; tests/billing/test_worker_killed.py kills a real worker process."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from billing import chunks, services, tasks
from billing.models import BillingRun, BillingRunChunk, ChunkStatus, RunStatus
from organizations.models import AuditEntry
from organizations.system_texts import render_text
from tests.billing import factories as f
from tests.billing.helpers import invoices, start_run

pytestmark = pytest.mark.django_db


def _running_run_with_a_dead_chunk(org, *, silent_for: dt.timedelta) -> BillingRun:
    month = timezone.localdate().replace(day=1)
    for n in range(3):
        f.recurring(f.folder(org, f.customer(org, name=f"Kunde {n}")), price="10.00", start=month)
    run = start_run(org, month)
    [chunk_id] = services.billing_run_plan(run.pk)
    chunks._heartbeat(chunk_id)  # a worker took the chunk ... and was killed
    then = timezone.now() - silent_for
    BillingRunChunk.objects.filter(pk=chunk_id).update(last_progress_at=then)
    BillingRun.objects.filter(pk=run.pk).update(last_progress_at=then, started_at=then, created_at=then)
    run.refresh_from_db()
    return run


def test_it_resumes_a_chunk_whose_heartbeat_is_older_than_the_limit(org, settings):
    settings.BILLING_CHUNK_STALE_AFTER = 600
    run = _running_run_with_a_dead_chunk(org, silent_for=dt.timedelta(minutes=11))
    with TestCase.captureOnCommitCallbacks(execute=True):
        dispatched = services.billing_run_stalled_resume(run=run)
    assert len(dispatched) == 1
    run.refresh_from_db()
    assert (run.status, run.invoices_count) == (RunStatus.DONE, 3)
    assert len(invoices(org, run)) == 3
    assert any("worker" in render_text(entry["message"]).lower() for entry in run.log)
    assert AuditEntry.objects.filter(action="billing_run.resumed", object_id=run.pk).exists()


def test_it_leaves_a_chunk_alone_while_its_heartbeat_is_fresh(org, settings):
    settings.BILLING_CHUNK_STALE_AFTER = 600
    run = _running_run_with_a_dead_chunk(org, silent_for=dt.timedelta(minutes=9))
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        assert services.billing_run_stalled_resume(run=run) == []
    assert callbacks == []
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and not invoices(org)


def test_it_hands_a_stalled_chunk_on_once_however_often_it_is_checked(org, settings):
    settings.BILLING_CHUNK_STALE_AFTER = 600
    run = _running_run_with_a_dead_chunk(org, silent_for=dt.timedelta(hours=2))
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        first = services.billing_run_stalled_resume(run=run)
        second = services.billing_run_stalled_resume(run=run)
        third = services.billing_runs_stalled_resume(organization=org)
    assert len(first) == 1 and second == [] and third == []
    assert len(callbacks) == 1
    chunk = BillingRunChunk.objects.get(run=run)
    assert chunk.status == ChunkStatus.PENDING
    assert timezone.now() - chunk.last_progress_at < dt.timedelta(minutes=1)


def test_the_scheduler_finishes_a_run_left_standing_by_a_dead_worker(org, settings):
    settings.BILLING_CHUNK_STALE_AFTER = 600
    run = _running_run_with_a_dead_chunk(org, silent_for=dt.timedelta(hours=1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert tasks.billing_stalled_task.delay().get() == 1
    run.refresh_from_db()
    assert (run.status, run.invoices_count) == (RunStatus.DONE, 3)


def test_the_daily_task_resumes_a_stalled_run_instead_of_skipping_it(org, settings):
    settings.BILLING_CHUNK_STALE_AFTER = 600
    org.billing_day = 28
    org.save()
    run = _running_run_with_a_dead_chunk(org, silent_for=dt.timedelta(hours=1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        tasks.billing_beat_task.delay().get()
    run.refresh_from_db()
    assert (run.status, run.invoices_count) == (RunStatus.DONE, 3)


def test_the_run_page_hands_a_stalled_run_on(org, settings, client_for, readonly_user):
    settings.BILLING_CHUNK_STALE_AFTER = 600
    run = _running_run_with_a_dead_chunk(org, silent_for=dt.timedelta(hours=1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client_for(readonly_user).get(reverse("billing:progress", args=[run.pk]))
    assert response.status_code == 200
    run.refresh_from_db()
    assert (run.status, run.invoices_count) == (RunStatus.DONE, 3)


def test_it_plans_again_a_run_whose_task_never_ran(org, settings):
    settings.BILLING_CHUNK_STALE_AFTER = 600
    month = timezone.localdate().replace(day=1)
    f.recurring(f.folder(org), price="10.00", start=month)
    run = services.billing_run_start(organization=org, period=month, user=None, dispatch=False)
    BillingRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    run.refresh_from_db()
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.billing_run_stalled_resume(run=run)
    run.refresh_from_db()
    assert (run.status, run.invoices_count) == (RunStatus.DONE, 1)


def test_the_broker_redelivers_a_chunk_only_after_it_may_have_run_its_longest(settings):
    from config.celery import app

    timeout = app.conf.broker_transport_options["visibility_timeout"]
    assert tasks.billing_chunk_task.time_limit == settings.BILLING_CHUNK_TIME_LIMIT
    assert settings.BILLING_CHUNK_TIME_LIMIT < timeout < 3600
    assert settings.BILLING_CHUNK_TIME_LIMIT < settings.BILLING_CHUNK_STALE_AFTER
    assert "billing.tasks.billing_stalled_task" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
