"""Row locks under real concurrency (PostgreSQL only; skipped on SQLite).

Two workers bill chunks of the same run at the same time: the invoice numbers stay
unique and gap-free (the number range row is locked per chunk), and a chunk delivered
twice at once is billed once (the chunk row is locked, the second finds it done).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone
from django_scopes import scopes_disabled

from billing import services
from billing.models import BillingRunChunk, ChunkStatus, RunStatus
from tests.billing.helpers import book, invoices, start_run

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent workers need PostgreSQL (set DATABASE_URL)")


def _in_threads(*jobs) -> list:
    results: list = [None] * len(jobs)
    errors: list = []

    def work(index, job):
        try:
            with scopes_disabled():
                results[index] = job()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_two_workers_billing_chunks_at_once_keep_the_numbers_gap_free(org, settings):
    settings.BILLING_CHUNK_SIZE = 2
    month = book(org, customers=8)
    run = start_run(org, month)
    chunk_ids = services.billing_run_plan(run.pk)
    assert len(chunk_ids) == 4
    _in_threads(
        *(lambda cid=cid: services.billing_chunk_execute(run_id=run.pk, chunk_id=cid) for cid in chunk_ids)
    )
    run = services.billing_run_finish(run.pk)
    assert (run.status, run.invoices_count) == (RunStatus.DONE, 8)
    counters = sorted(int(re.search(r"(\d+)$", d.number).group(1)) for d in invoices(org))
    assert counters == list(range(1, 9))


def test_a_chunk_delivered_twice_at_once_is_billed_once(org, settings):
    settings.BILLING_CHUNK_SIZE = 10
    month = book(org, customers=4)
    run = start_run(org, month)
    [chunk_id] = services.billing_run_plan(run.pk)
    _in_threads(
        lambda: services.billing_chunk_execute(run_id=run.pk, chunk_id=chunk_id),
        lambda: services.billing_chunk_execute(run_id=run.pk, chunk_id=chunk_id),
    )
    assert BillingRunChunk.objects.get(pk=chunk_id).status == ChunkStatus.DONE
    assert len(invoices(org)) == 4
    run.refresh_from_db()
    assert run.payers_done == 4 and run.invoices_count == 4


def test_two_starts_at_the_same_moment_make_one_run(org):
    month = book(org, customers=1)
    outcomes = _in_threads(*(lambda: _start_or_refusal(org, month) for _ in range(2)))
    assert sorted(outcomes) == ["refused", "started"]


def _start_or_refusal(org, month) -> str:
    from django.core.exceptions import ValidationError

    try:
        services.billing_run_start(organization=org, period=month, user=None, dispatch=False)
    except ValidationError:
        return "refused"
    return "started"


def test_a_chunk_waiting_for_a_manual_invoice_dates_its_invoices_after_it(org, settings):
    """The manual invoice holds the number range (uncommitted) while the run's chunk
    wants numbers: the chunk must decide its date only once it has the range, i.e. after
    the manual invoice committed, and so date its invoices no earlier."""
    from django.db import transaction

    from tests.billing.test_issue_dates import counter, in_order, manual_invoice

    settings.BILLING_CHUNK_SIZE = 10
    today = timezone.localdate()
    month = book(org, customers=3)
    run = start_run(org, month, as_of=today - dt.timedelta(days=3))
    [chunk_id] = services.billing_run_plan(run.pk)
    holding, release = threading.Event(), threading.Event()

    def manual():
        with transaction.atomic():
            document = manual_invoice(org)  # dated today, the number range locked until commit
            holding.set()
            assert release.wait(30)
        return document

    def chunk():
        assert holding.wait(30)
        return services.billing_chunk_execute(run_id=run.pk, chunk_id=chunk_id)

    def release_later():
        assert holding.wait(30)
        time.sleep(1.5)  # the chunk is waiting for the number range by now
        release.set()

    document, _chunk, _ = _in_threads(manual, chunk, release_later)
    issued = invoices(org)
    assert len(issued) == 4
    run_invoices = [d for d in issued if d.pk != document.pk]
    assert all(counter(d.number) > counter(document.number) for d in run_invoices)
    assert {d.issue_date for d in run_invoices} == {today}
    assert in_order(issued)
