"""A run in progress meets the rest of the world (PostgreSQL only; skipped on SQLite).

A chunk is held inside its transaction - after planning, or after storing and before
commit - while another connection changes a billing day, edits or deletes a line. The
run never bills a day twice, never loses `billed_through`, and one payer's trouble
stays with that payer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django_scopes import scopes_disabled

from billing import chunks, services
from billing.models import BillingCharge, BillingRunChunk, BillingRunFailure, ChunkStatus, RunStatus
from folders.models import RecurringLine
from folders.services import folder_update, recurring_line_delete, recurring_line_update
from organizations.models import Organization
from organizations.services import organization_update
from organizations.signals import billing_day_changed
from tests.billing import factories as f
from tests.billing.helpers import invoices, overbilled_days, start_run

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

DEC, JAN = dt.date(2026, 12, 1), dt.date(2027, 1, 1)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent workers need PostgreSQL (set DATABASE_URL)")


class Background:
    """`job` in a thread with its own connection; `result()` joins it."""

    def __init__(self, job):
        self.value = self.error = None
        self.thread = threading.Thread(target=self._work, args=(job,))
        self.thread.start()

    def _work(self, job):
        try:
            with scopes_disabled():
                self.value = job()
        except Exception as exc:  # noqa: BLE001 - handed to the test by result()
            self.error = exc
        finally:
            connections.close_all()

    def result(self):
        self.thread.join(60)
        assert not self.thread.is_alive(), "the background job hangs"
        if self.error is not None:
            raise self.error
        return self.value


@contextlib.contextmanager
def held_after(monkeypatch, name: str):
    """Hold the chunk inside its transaction right after `chunks.<name>` returned;
    yields `release`. (`_plan`: planned, nothing stored; `_record`: stored, not committed.)"""
    reached, go = threading.Event(), threading.Event()
    original = getattr(chunks, name)

    def hold(*args, **kwargs):
        value = original(*args, **kwargs)
        reached.set()
        assert go.wait(30), "never released"
        return value

    monkeypatch.setattr(chunks, name, hold)
    try:
        yield reached, go.set
    finally:
        go.set()


def _started(org, period):
    run = start_run(org, period, as_of=period)
    return run, services.billing_run_plan(run.pk)


def test_a_billing_day_cannot_change_while_a_chunk_is_open_and_no_day_is_billed_twice(
    org, admin_user, monkeypatch
):
    folder = f.folder(org)
    line = f.recurring(folder, price="31.00", start=DEC)
    run, [chunk_id] = _started(org, DEC)
    with held_after(monkeypatch, "_plan") as (reached, release):
        chunk = Background(lambda: services.billing_chunk_execute(run_id=run.pk, chunk_id=chunk_id))
        assert reached.wait(30)
        # The chunk planned the folder on day 1 and has not stored it: nothing committed
        # tells the pin, so the active run must refuse.
        with pytest.raises(ValidationError):
            folder_update(folder=folder, user=admin_user, data={"billing_day": 15})
        with pytest.raises(ValidationError):
            organization_update(organization=org, user=admin_user, data={"billing_day": 15})
        release()
        assert chunk.result().status == ChunkStatus.DONE
    assert services.billing_run_finish(run.pk).status == RunStatus.DONE
    run, chunk_ids = _started(org, JAN)
    for chunk_id in chunk_ids:
        services.billing_chunk_execute(run_id=run.pk, chunk_id=chunk_id)
    services.billing_run_finish(run.pk)
    folder.refresh_from_db()
    org.refresh_from_db()
    assert (folder.billing_day, org.billing_day) == (None, 1)
    assert overbilled_days(line) == []
    assert [c.service_start for c in BillingCharge.objects.filter(recurring_line=line)] == [DEC, JAN]


def test_an_edit_waits_for_the_run_and_keeps_its_billed_through(org, admin_user, monkeypatch):
    folder = f.folder(org)
    line = f.recurring(folder, price="31.00", start=DEC)
    stale = RecurringLine.objects.get(pk=line.pk)
    moved = RecurringLine.objects.get(pk=line.pk)
    run, [chunk_id] = _started(org, DEC)
    with held_after(monkeypatch, "_record") as (reached, release):
        chunk = Background(lambda: services.billing_chunk_execute(run_id=run.pk, chunk_id=chunk_id))
        assert reached.wait(30)
        # billed_through is set in the chunk's open transaction; both edits read it empty.
        edit = Background(
            lambda: recurring_line_update(
                line=stale, user=admin_user, data={"description": "SIP-Trunk Premium"}
            )
        )
        start = Background(
            lambda: recurring_line_update(
                line=moved, user=admin_user, data={"start_date": dt.date(2026, 11, 1)}
            )
        )
        time.sleep(0.5)  # both wait for the chunk's row lock
        release()
        assert chunk.result().status == ChunkStatus.DONE
        edit.result()
        with pytest.raises(ValidationError):
            start.result()
    line.refresh_from_db()
    assert (line.description, line.start_date, line.billed_through) == (
        "SIP-Trunk Premium",
        DEC,
        dt.date(2026, 12, 31),
    )


def test_a_line_deleted_while_its_chunk_runs_fails_its_payer_only(org, admin_user, monkeypatch):
    gone = f.folder(org, f.customer(org, name="Kunde A"))
    doomed = f.recurring(gone, price="31.00", start=DEC)
    kept = f.folder(org, f.customer(org, name="Kunde B"))
    line = f.recurring(kept, price="31.00", start=DEC)
    run, [chunk_id] = _started(org, DEC)
    with held_after(monkeypatch, "_plan") as (reached, release):
        chunk = Background(lambda: services.billing_chunk_execute(run_id=run.pk, chunk_id=chunk_id))
        assert reached.wait(30)
        recurring_line_delete(line=doomed, user=admin_user)  # not billed yet: allowed
        release()
        assert chunk.result().status == ChunkStatus.DONE
    assert BillingRunChunk.objects.get(pk=chunk_id).invoices_count == 1
    [document] = invoices(org)
    assert document.payer.name == "Kunde B"
    line.refresh_from_db()
    assert line.billed_through == dt.date(2026, 12, 31)
    failure = BillingRunFailure.objects.get(run=run)
    assert failure.payer.name == "Kunde A"
    assert not RecurringLine.objects.filter(pk=doomed.pk).exists()


def _charge(line, start: dt.date, end: dt.date, kind: str = "period") -> None:
    BillingCharge.objects.create(
        organization=line.organization,
        recurring_line=line,
        period_start=start,
        period_end=end,
        kind=kind,
        service_start=start,
        service_end=end,
        quantity=1,
        unit_price=31,
        amount=31,
    )


def test_the_database_refuses_a_period_that_overlaps_another_period_of_the_line(org):
    line = f.recurring(f.folder(org), price="31.00", start=DEC)
    _charge(line, DEC, dt.date(2026, 12, 31))
    # Within one period, further kinds (credits, change pieces) and the setup fee are fine.
    _charge(line, DEC, dt.date(2026, 12, 31), kind="change-credit:1")
    _charge(line, dt.date(2026, 12, 15), dt.date(2027, 1, 14), kind="setup")
    # The next period on the same day is fine.
    _charge(line, JAN, dt.date(2027, 1, 31))
    other = f.recurring(line.folder, price="31.00", start=DEC)
    _charge(other, dt.date(2026, 12, 15), dt.date(2027, 1, 14))
    with pytest.raises(IntegrityError), transaction.atomic():
        _charge(line, dt.date(2026, 12, 15), dt.date(2027, 1, 14))
    assert BillingCharge.objects.filter(recurring_line=line).count() == 4


def test_a_run_started_during_a_billing_day_change_waits_for_it(org, admin_user):
    """The change asked "is a run active?" and got no: a run started now must not plan on
    the old day while the new one is being saved - it waits, and then plans on the new."""
    folder = f.folder(org)
    f.recurring(folder, price="31.00", start=DEC)
    reached, go = threading.Event(), threading.Event()

    def hold(**kwargs):
        reached.set()
        assert go.wait(30), "never released"

    billing_day_changed.connect(hold, dispatch_uid="test.hold")
    try:
        change = Background(
            lambda: organization_update(
                organization=Organization.objects.get(pk=org.pk), user=admin_user, data={"billing_day": 15}
            )
        )
        assert reached.wait(30)
        start = Background(lambda: _started(org, DEC))
        time.sleep(0.5)
        assert start.thread.is_alive(), "the run started while the billing day was being changed"
        go.set()
        change.result()
        run, _chunks = start.result()
    finally:
        go.set()
        billing_day_changed.disconnect(dispatch_uid="test.hold")
    run.refresh_from_db()
    org.refresh_from_db()
    assert (run.status, org.billing_day) == (RunStatus.RUNNING, 15)
