"""The real path: a Celery worker consuming from Redis bills the month.

Needs a Redis at redis://127.0.0.1:6379/15 and is skipped with a reason without one. The
worker runs in a thread of the test process against the test database (a transactional
test: the run is handed to Celery on commit, and the worker's own connection must see
the committed rows). Its queue has a name of its own, so another worker on the same
Redis never takes these tasks.
"""

from __future__ import annotations

import time
import uuid

import pytest
from django.db import OperationalError
from django.utils import timezone

from billing.models import BillingRun, BillingRunChunk, ChunkStatus, RunStatus
from billing.services import billing_run_start
from tests.billing import factories as f
from tests.billing.helpers import invoices

BROKER = "redis://127.0.0.1:6379/15"


def _redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(BROKER, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001 - any failure means: no broker here
        return False


@pytest.fixture
def celery_on_redis(settings):
    if not _redis_reachable():
        pytest.skip(f"no Redis broker reachable at {BROKER}")
    from django.db import connection

    if connection.vendor == "sqlite":
        # SQLite's shared in-memory test database locks whole tables between the test's
        # connection and the worker thread's; the real path needs a server database.
        pytest.skip("the worker path needs PostgreSQL (set DATABASE_URL)")
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    queue = f"billing-test-{uuid.uuid4().hex[:8]}"
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "task_default_queue")}
    app.conf.update(broker_url=BROKER, task_always_eager=False, task_default_queue=queue)
    _forget_connections(app)  # eager tasks before may have opened a pool on the default broker
    settings.BILLING_CHUNK_SIZE = 2  # several chunks, fanned out as separate tasks
    try:
        with start_worker(
            app, pool="solo", concurrency=1, perform_ping_check=False, queues=[queue], loglevel="WARNING"
        ):
            yield app
    finally:
        app.conf.update(saved)
        app.pool.force_close_all()
        _forget_connections(app)
        import redis

        client = redis.Redis.from_url(BROKER)
        for key in client.scan_iter(f"*{queue}*"):
            client.delete(key)


def _forget_connections(app) -> None:
    """Drop the app's cached connection and producer pools, so the next publish connects
    to the broker configured now (what Celery itself does after a fork)."""
    app._pool = None
    app.amqp._producer_pool = None


def _wait_until_finished(run: BillingRun, seconds: float = 120) -> BillingRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.5)
        try:
            run.refresh_from_db()
        except OperationalError:
            continue  # SQLite's shared in-memory test database: the worker holds the table
        if run.status not in (RunStatus.PENDING, RunStatus.RUNNING):
            return run
    raise AssertionError(f"the run is still {run.status} after {seconds}s")


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_redis_bills_the_month_in_chunks(org, celery_on_redis):
    month = timezone.localdate().replace(day=1)
    for n in range(5):
        folder = f.folder(org, f.customer(org, name=f"Kunde {n}"))
        f.recurring(folder, price="10.00", start=month)
    run = billing_run_start(organization=org, period=month, user=None, render_pdfs=False)
    assert run.status == RunStatus.PENDING  # handed over, not run inline
    run = _wait_until_finished(run)
    assert run.status == RunStatus.DONE
    assert run.invoices_count == 5 and run.payers_done == 5
    assert BillingRunChunk.objects.filter(run=run, status=ChunkStatus.DONE).count() == 3
    assert len(invoices(org)) == 5

    # The same month again on the worker: nothing new.
    again = _wait_until_finished(
        billing_run_start(organization=org, period=month, user=None, render_pdfs=False)
    )
    assert (again.status, again.invoices_count) == (RunStatus.DONE, 0)
    assert len(invoices(org)) == 5
