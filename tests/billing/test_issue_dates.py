"""Invoice numbers and issue dates ascend together, also when a run is resumed after a
manual invoice was issued (README, "never before the newest invoice")."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from billing import services
from billing.models import BillingRun, RunStatus, RunTrigger
from documents.services import LineSpec, document_draft_create, document_issue
from tests.billing import factories as f
from tests.billing.helpers import book, invoices, start_run

pytestmark = pytest.mark.django_db


def manual_invoice(org, *, issue_date: dt.date | None = None):
    customer = f.customer(org, name="Laufkundschaft GmbH")
    draft = document_draft_create(
        organization=org,
        kind="invoice",
        user=None,
        customer=customer,
        payer=customer,
        lines=[
            LineSpec(
                description="Einrichtung vor Ort",
                quantity=Decimal(1),
                unit_price=Decimal("80.00"),
                tax_rate=Decimal("19.00"),
            )
        ],
    )
    return document_issue(document=draft, user=None, issue_date=issue_date)


def counter(number: str) -> int:
    return int(re.search(r"(\d+)$", number).group(1))


def in_order(documents) -> bool:
    ordered = sorted(documents, key=lambda d: (d.number[:8], counter(d.number)))
    dates = [d.issue_date for d in ordered]
    return dates == sorted(dates)


def test_it_dates_a_resumed_chunk_after_a_manual_invoice_issued_meanwhile(org):
    today = timezone.localdate()
    month = book(org, customers=3)
    run = start_run(org, month, as_of=today - dt.timedelta(days=3))
    [chunk_id] = services.billing_run_plan(run.pk)
    manual = manual_invoice(org)  # dated today, numbered before the run's invoices
    services.billing_chunk_execute(run_id=run.pk, chunk_id=chunk_id)
    issued = invoices(org)
    assert len(issued) == 4
    run_invoices = [d for d in issued if d.pk != manual.pk]
    assert {d.issue_date for d in run_invoices} == {today}
    assert all(counter(d.number) > counter(manual.number) for d in run_invoices)
    assert in_order(issued)


def test_it_keeps_the_run_date_when_no_later_invoice_exists(org):
    today = timezone.localdate()
    month = book(org, customers=2)
    manual_invoice(org, issue_date=today - dt.timedelta(days=5))
    run = start_run(org, month, as_of=today - dt.timedelta(days=2))
    services.billing_run_execute(run.pk)
    assert {d.issue_date for d in invoices(org, run)} == {today - dt.timedelta(days=2)}


def test_it_dates_a_manual_invoice_no_earlier_than_the_newest_one(org):
    today = timezone.localdate()
    first = manual_invoice(org, issue_date=today + dt.timedelta(days=2))
    second = manual_invoice(org, issue_date=today - dt.timedelta(days=1))
    assert counter(second.number) > counter(first.number)
    assert second.issue_date == first.issue_date


def _pending_run(org, month: dt.date, as_of: dt.date) -> BillingRun:
    run = start_run(org, month, as_of=as_of, trigger=RunTrigger.COMMAND)
    services.billing_run_plan(run.pk)  # running, its chunk not billed yet (a killed `bill`)
    return run


def test_the_bill_command_applies_as_of_when_it_resumes_a_run(org):
    today = timezone.localdate()
    month = book(org, customers=2)
    run = _pending_run(org, month, today - dt.timedelta(days=3))
    manual_invoice(org, issue_date=today - dt.timedelta(days=1))
    out = io.StringIO()
    call_command(
        "bill", period=f"{month:%Y-%m}", org=org.slug, as_of=today.isoformat(), no_pdf=True, stdout=out
    )
    run.refresh_from_db()
    assert (run.status, run.as_of) == (RunStatus.DONE, today)
    assert {d.issue_date for d in invoices(org, run)} == {today}
    assert "resuming" in out.getvalue()


def test_the_bill_command_refuses_to_resume_with_a_date_before_the_newest_invoice(org):
    today = timezone.localdate()
    month = book(org, customers=2)
    run = _pending_run(org, month, today - dt.timedelta(days=3))
    manual_invoice(org)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "bill",
            period=f"{month:%Y-%m}",
            org=org.slug,
            as_of=(today - dt.timedelta(days=2)).isoformat(),
            no_pdf=True,
            stdout=io.StringIO(),
            stderr=err,
        )
    assert "Rechnung" in err.getvalue() and today.strftime("%d.%m.%Y") in err.getvalue()
    run.refresh_from_db()
    assert (run.status, run.as_of) == (RunStatus.RUNNING, today - dt.timedelta(days=3))
    assert len(invoices(org, run)) == 0
