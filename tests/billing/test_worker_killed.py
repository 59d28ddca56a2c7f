"""A worker killed (kill -9) in the middle of a chunk does not leave the run standing.

Real processes: a `celery worker` subprocess on Redis (redis://127.0.0.1:6379/15, a queue
of its own) against the PostgreSQL test database bills a chunk slowly and is killed
while the chunk's transaction is open. Its message stays unacknowledged at the broker
(redelivered only after the visibility timeout); the other chunks go to a fresh worker,
and the scheduler's task - called here as beat would call it, with a heartbeat limit of
two seconds - hands the dead chunk on. The run finishes without anyone pressing Resume.
Skipped with a reason without Redis or PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone
from kombu import pools as kombu_pools

from billing import services, tasks
from billing.models import BillingRun, BillingRunChunk, ChunkStatus, RunStatus
from organizations.system_texts import render_text
from tests.billing import factories as f
from tests.billing.helpers import invoices, start_run
from tests.billing.test_celery import BROKER, _forget_connections, _redis_reachable

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(django_settings.BASE_DIR)


@pytest.fixture
def broker_queue(settings):
    if not _redis_reachable():
        pytest.skip(f"no Redis broker reachable at {BROKER}")
    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs a database server it can share (set DATABASE_URL to PostgreSQL)")
    from config.celery import app

    queue = f"billing-killed-{uuid.uuid4().hex[:8]}"
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "task_default_queue")}
    app.conf.update(broker_url=BROKER, task_always_eager=False, task_default_queue=queue)
    _forget_connections(app)
    # kombu keeps its pools per broker URL process-wide; another test may have closed ours.
    kombu_pools.reset()
    try:
        yield queue
    finally:
        app.conf.update(saved)
        kombu_pools.reset()
        _forget_connections(app)
        _forget_queue(queue)


def _forget_queue(queue: str) -> None:
    import redis

    client = redis.Redis.from_url(BROKER)
    for key in client.scan_iter(f"*{queue}*"):
        client.delete(key)
    # The killed worker's message, still waiting for its visibility timeout.
    for tag, payload in client.hgetall("unacked").items():
        if queue.encode() in payload:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


def _worker(queue: str, tmp_path: Path, name: str, **env) -> subprocess.Popen:
    database = connection.settings_dict
    url = f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MEDIA_ROOT": str(tmp_path / "media"),
        **env,
    }
    if database.get("PASSWORD"):
        environment["PGPASSWORD"] = database["PASSWORD"]
    log = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.billing.slow_celery",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=WARNING",
            f"--hostname={name}-{queue}@%h",
            f"--queues={queue}",
        ],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_for(condition, seconds: float, what: str, *, tick=None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if tick is not None:
            tick()
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"waited {seconds}s for {what}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def test_a_run_whose_worker_is_killed_mid_chunk_finishes_without_a_click(
    org, settings, broker_queue, tmp_path
):
    settings.BILLING_CHUNK_SIZE = 2
    month = timezone.localdate().replace(day=1)
    for n in range(5):
        f.recurring(f.folder(org, f.customer(org, name=f"Kunde {n}")), price="10.00", start=month)
    run = start_run(org, month)
    chunk_ids = services.billing_run_plan(run.pk)
    assert len(chunk_ids) == 3

    started = tmp_path / "chunk-started"
    doomed = _worker(
        broker_queue,
        tmp_path,
        "doomed",
        BILLING_TEST_SLOW_CHUNK="120",
        BILLING_TEST_CHUNK_STARTED=str(started),
    )
    fresh = None
    try:
        for chunk_id in chunk_ids:
            tasks.billing_chunk_task.delay(run.pk, chunk_id, org.pk)
        _wait_for(started.exists, 60, "the first worker to start a chunk")
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(10)
        chunks = BillingRunChunk.objects.filter(run=run)
        assert chunks.filter(status=ChunkStatus.DONE).count() == 0  # nothing of it was stored
        assert chunks.exclude(last_progress_at=None).count() == 1  # its heartbeat

        fresh = _worker(broker_queue, tmp_path, "fresh")
        settings.BILLING_CHUNK_STALE_AFTER = 2

        def beat() -> None:  # what celery beat does every five minutes, every second here
            tasks.billing_stalled_task()

        def finished() -> bool:
            run.refresh_from_db()
            return run.status not in (RunStatus.PENDING, RunStatus.RUNNING)

        _wait_for(finished, 120, "the run to finish", tick=beat)
    finally:
        _stop(doomed)
        if fresh is not None:
            _stop(fresh)
    run = BillingRun.objects.get(pk=run.pk)
    assert (run.status, run.invoices_count, run.payers_done) == (RunStatus.DONE, 5, 5), (
        tmp_path / "fresh.log"
    ).read_text()
    assert len(invoices(org, run)) == 5
    assert any("worker" in render_text(entry["message"]).lower() for entry in run.log)
