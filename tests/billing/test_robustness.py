"""Idempotency, failure isolation and the preview: the run explains itself and never bills twice."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing import chunks
from billing.models import BillingCharge, BillingRun, BillingRunChunk, ChunkStatus, RunStatus
from billing.services import billing_preview, billing_run_execute, billing_run_start
from tests.billing import factories as f
from tests.billing.helpers import bill, invoice_keys, invoices, preview_keys
from tests.organizations.factories import OrganizationFactory

D = Decimal
NOV = dt.date(2026, 11, 1)

pytestmark = pytest.mark.django_db


def build_book(org) -> None:
    """A small but varied customer base; identical in every organization it is built in."""
    numbers = iter(f"B{n:03}" for n in range(1, 100))
    for n in range(5):
        folder = f.folder(
            org, number=next(numbers), cust=f.customer(org, name=f"Einzelkunde {n}"), name=f"Filiale {n}"
        )
        f.recurring(folder, price=f"{10 + n}.00", start=dt.date(2026, 10, 16))
    group = f.customer(org, name="Kette AG", consolidate_invoices=True)
    for n in range(3):
        folder = f.folder(org, number=next(numbers), cust=group, name=f"Markt {n}")
        f.recurring(folder, price="25.00", quantity=str(n + 1), start=NOV, setup_fee="49.00")
    financed = f.folder(
        org, number=next(numbers), cust=f.customer(org, name="Praxis Dr. Lang"), name="Praxis"
    )
    f.finance(financed, f.financier(org))
    f.oneoff(financed, price="3999.00", serials=("SN-1",), delivered_on=dt.date(2026, 10, 28))
    f.recurring(financed, price="79.00", cycle=3, start=dt.date(2026, 11, 10))
    held = f.folder(
        org,
        number=next(numbers),
        cust=f.customer(org, name="Reklamation GmbH"),
        billing_hold=True,
        billing_hold_reason="Streit",
    )
    f.recurring(held, start=dt.date(2026, 9, 1))
    broken = f.folder(org, number=next(numbers), cust=f.customer(org, name="Ohne Adresse KG", street=""))
    f.recurring(broken, start=NOV)
    trial = f.folder(org, number=next(numbers), cust=f.customer(org, name="Testkunde UG"))
    f.recurring(trial, start=NOV, trial_end=dt.date(2026, 12, 31))
    arrears = f.folder(org, number=next(numbers), cust=f.customer(org, name="Nachzahler eG"))
    f.recurring(arrears, price="45.00", timing="arrears", start=dt.date(2026, 9, 15))


def numbers_are_gap_free(org) -> bool:
    counters = sorted(int(re.search(r"(\d+)$", d.number).group(1)) for d in invoices(org))
    return counters == list(range(1, len(counters) + 1))


@pytest.fixture
def clean_copy(org):
    """The book in `org`, not billed yet, and a copy in another organization billed for
    November in one clean run: the result a disturbed run in `org` must end up with."""
    clean = OrganizationFactory(slug="clean-copy", name="Saubere Kopie GmbH")
    build_book(clean)
    build_book(org)
    bill(clean, NOV)
    return clean


@pytest.fixture
def small_chunks(settings):
    settings.BILLING_CHUNK_SIZE = 2


def test_the_preview_is_what_the_run_then_does(org):
    build_book(org)
    preview = billing_preview(organization=org, period=NOV, as_of=NOV)
    assert not BillingRun.objects.exists() and not BillingCharge.objects.exists()
    run = bill(org, NOV)
    assert preview_keys(preview) == invoice_keys(org)
    assert {(s.folder.pk, s.reason) for s in preview.skips} == {
        (s.folder_id, s.reason) for s in run.skips.all()
    }
    assert {(x.payer.pk, x.reason) for x in preview.failures} == {
        (x.payer_id, x.reason) for x in run.failures.all()
    }
    assert preview.totals["gross"] == run.total_gross


def test_a_run_killed_in_the_middle_and_run_again_equals_one_clean_run(
    org, small_chunks, clean_copy, monkeypatch
):
    real_store = chunks._store
    stored = {"chunks": 0}

    def dies_after_the_first_chunk(run, planned):
        # From the second chunk on the worker is gone: whatever it was writing is lost
        # with its transaction, as on SIGKILL, and nothing after it happens.
        if stored["chunks"] >= 1:
            raise RuntimeError("worker killed")
        stored["chunks"] += 1
        return real_store(run, planned)

    monkeypatch.setattr(chunks, "_store", dies_after_the_first_chunk)
    first = bill(org, NOV)
    assert first.status == RunStatus.FAILED
    assert BillingRunChunk.objects.filter(run=first, status=ChunkStatus.DONE).count() == 1
    assert 0 < first.invoices_count < BillingRun.objects.get(organization=clean_copy).invoices_count

    monkeypatch.setattr(chunks, "_store", real_store)
    second = bill(org, NOV)
    assert second.status == RunStatus.DONE
    assert invoice_keys(org) == invoice_keys(clean_copy)
    assert numbers_are_gap_free(org)


def test_a_failed_run_can_be_resumed(org, small_chunks, clean_copy, monkeypatch):
    real_store = chunks._store

    def always_dies_on_financier(run, planned):
        if any(p.financed for p in planned):
            raise RuntimeError("database went away")
        return real_store(run, planned)

    monkeypatch.setattr(chunks, "_store", always_dies_on_financier)
    run = bill(org, NOV)
    assert run.status == RunStatus.FAILED
    monkeypatch.setattr(chunks, "_store", real_store)
    run = billing_run_execute(run.pk)
    assert run.status == RunStatus.DONE
    assert invoice_keys(org) == invoice_keys(clean_copy)


def test_a_chunk_that_fails_once_is_retried_and_nothing_is_lost(org, small_chunks, monkeypatch):
    build_book(org)
    real_store = chunks._store
    calls = {"n": 0}

    def flaky(run, planned):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("deadlock detected")
        return real_store(run, planned)

    monkeypatch.setattr(chunks, "_store", flaky)
    run = bill(org, NOV)
    assert run.status == RunStatus.DONE
    assert run.payers_done == run.payers_total
    assert BillingRunChunk.objects.filter(run=run, status=ChunkStatus.DONE).count() == run.chunks_total
    assert numbers_are_gap_free(org)


def test_a_charge_stored_meanwhile_by_someone_else_fails_only_that_payer(org, monkeypatch):
    first = f.folder(org, f.customer(org, name="Erster Kunde"))
    first_line = f.recurring(first, start=NOV)
    second = f.folder(org, f.customer(org, name="Zweiter Kunde"))
    f.recurring(second, start=NOV)
    real_plan = chunks._plan

    def plan_then_race(organization, customer_ids, **kwargs):
        plans = real_plan(organization, customer_ids, **kwargs)
        BillingCharge.objects.create(  # another worker billed the line in the meantime
            organization=org,
            recurring_line=first_line,
            period_start=NOV,
            period_end=dt.date(2026, 11, 30),
            kind="period",
            service_start=NOV,
            service_end=dt.date(2026, 11, 30),
            quantity=1,
            unit_price=100,
            amount=100,
        )
        return plans

    monkeypatch.setattr(chunks, "_plan", plan_then_race)
    run = bill(org, NOV)
    [invoice] = invoices(org, run)
    assert invoice.payer.name == "Zweiter Kunde"
    failure = run.failures.get()
    assert (failure.reason, failure.payer.name) == ("concurrent", "Erster Kunde")
    assert numbers_are_gap_free(org)


def test_two_runs_of_one_organization_cannot_be_active_at_once(org):
    BillingRun.objects.create(organization=org, period=NOV, as_of=NOV, status=RunStatus.RUNNING)
    with pytest.raises(ValidationError):
        billing_run_start(organization=org, period=NOV, user=None, as_of=NOV, dispatch=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        BillingRun.objects.create(organization=org, period=NOV, as_of=NOV, status=RunStatus.PENDING)


def test_runs_of_different_organizations_do_not_block_each_other(org, other_org):
    BillingRun.objects.create(organization=org, period=NOV, as_of=NOV, status=RunStatus.RUNNING)
    run = billing_run_start(organization=other_org, period=NOV, user=None, as_of=NOV, dispatch=False)
    assert run.status == RunStatus.PENDING


def test_a_run_is_refused_for_a_month_too_far_ahead_or_not_starting_on_the_first(org):
    with pytest.raises(ValidationError):
        billing_run_start(organization=org, period=dt.date(2027, 1, 1), user=None, as_of=NOV, dispatch=False)
    with pytest.raises(ValidationError):
        billing_run_start(organization=org, period=dt.date(2026, 11, 2), user=None, as_of=NOV, dispatch=False)
    assert billing_run_start(
        organization=org, period=dt.date(2026, 12, 1), user=None, as_of=NOV, dispatch=False
    )


def test_a_run_without_the_issuers_tax_id_is_refused(org):
    org.vat_id = org.tax_number = ""
    org.save()
    with pytest.raises(ValidationError):
        billing_run_start(organization=org, period=NOV, user=None, as_of=NOV, dispatch=False)


def test_invoices_are_numbered_gap_free_in_the_run_transaction(org, small_chunks):
    build_book(org)
    bill(org, NOV)
    assert numbers_are_gap_free(org)
    assert all(d.issue_date == NOV and d.billing_run_id for d in invoices(org))


def test_pdfs_are_scheduled_after_commit_unless_switched_off(org, monkeypatch):
    scheduled = []
    monkeypatch.setattr("documents.bulk.schedule_pdf", lambda pk, org_id: scheduled.append(pk))
    folder = f.folder(org)
    f.recurring(folder, start=NOV)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        run = billing_run_start(
            organization=org, period=NOV, user=None, as_of=NOV, dispatch=False, render_pdfs=True
        )
        billing_run_execute(run.pk)
        assert scheduled == []  # nothing rendered inside the transaction holding the number lock
    for callback in callbacks:
        callback()
    assert scheduled == [invoices(org)[0].pk]
