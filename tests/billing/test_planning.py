"""The run's bulk loading gives the same terms as the folders app's own selectors,
and the management commands and the demo work end to end."""

from __future__ import annotations

import datetime as dt
import io
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing import planning
from billing.models import BillingRun, RunStatus
from documents.models import Document
from folders.models import RecurringLine, RecurringLineChange
from folders.selectors import recurring_line_segments
from tests.billing import factories as f
from tests.billing.helpers import invoices

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("seed", range(8))
def test_bulk_loaded_versions_equal_the_folders_selector(org, seed):
    rng = random.Random(seed)
    folder = f.folder(org)
    line = f.recurring(folder, price="10.00", quantity="2", start=dt.date(2026, 1, 10))
    days = sorted(rng.sample(range(-5, 300), rng.randint(1, 5)))
    for offset in days + [days[-1]]:  # includes two changes on the same day
        RecurringLineChange.objects.create(
            organization=org,
            line=line,
            effective_from=line.start_date + dt.timedelta(days=offset),
            quantity=rng.randint(1, 9),
            unit_price=rng.randint(1, 9999) / 100,
            previous_quantity=line.quantity,
            previous_unit_price=line.unit_price,
        )
    rows = planning.change_rows(organization=org, line_ids=[line.pk])[line.pk]
    line = RecurringLine.objects.get(pk=line.pk)
    assert planning.segments_of(line, rows) == recurring_line_segments(line)


def test_a_line_without_changes_has_one_version(org):
    line = f.recurring(f.folder(org), price="12.50", quantity="3")
    assert planning.segments_of(line, []) == recurring_line_segments(line)


def test_the_bill_command_bills_a_month_and_a_second_time_nothing(org):
    folder = f.folder(org)
    f.recurring(folder, start=dt.date(2026, 11, 1))
    out = io.StringIO()
    call_command("bill", period="2026-11", org=org.slug, as_of="2026-11-01", no_pdf=True, stdout=out)
    assert "1 invoices" in out.getvalue()
    call_command("bill", period="2026-11", org=org.slug, as_of="2026-11-01", no_pdf=True, stdout=out)
    assert "2026-11: nothing new to bill - no run created." in out.getvalue()
    assert len(invoices(org)) == 1
    assert BillingRun.objects.filter(trigger="command", status=RunStatus.DONE).count() == 2


def test_the_bill_command_dry_run_writes_nothing_unless_recorded(org):
    folder = f.folder(org)
    f.recurring(folder, start=dt.date(2026, 11, 1))
    out = io.StringIO()
    call_command("bill", period="2026-11", org=org.slug, as_of="2026-11-01", dry_run=True, stdout=out)
    assert "(dry run)" in out.getvalue() and "1 invoices" in out.getvalue()
    assert not BillingRun.objects.exists() and not Document.objects.exists()
    call_command(
        "bill", period="2026-11", org=org.slug, as_of="2026-11-01", dry_run=True, record=True, stdout=out
    )
    run = BillingRun.objects.get()
    assert (run.status, run.invoices_count) == (RunStatus.PREVIEWED, 1)
    assert not Document.objects.exists()


def test_the_bill_command_refuses_a_bad_month_or_organization(org):
    with pytest.raises(CommandError):
        call_command("bill", period="11/2026")
    with pytest.raises(CommandError):
        call_command("bill", period="2026-11", org="nobody")


@pytest.mark.slow
def test_the_benchmark_builds_and_bills_a_small_organization():
    out = io.StringIO()
    call_command("bench_billing", customers=30, slug="bench-test", stdout=out)
    text = out.getvalue()
    assert "measured" in text and "same month again" in text
    assert "failed" not in text.split("measured")[1].split("\n")[0]


@pytest.mark.slow
def test_the_benchmark_changes_billing_days_mid_run_and_bills_no_day_twice():
    out = io.StringIO()
    call_command("bench_billing", customers=30, chunk_size=10, slug="bench-days", stdout=out)
    text = out.getvalue()
    assert "(1 of 3 chunks done): organization: refused" in text
    assert "folder O" in text and "changed;" not in text
    assert "Line-days billed twice: 0" in text


@pytest.mark.slow
def test_the_demo_bills_the_last_months_once(org, members):
    from tests.test_tenant_wall import seed_everything

    seed_everything(org, members)
    runs = BillingRun.objects.filter(organization=org, status=RunStatus.DONE).count()
    billed = Document.objects.filter(organization=org, billing_run_id__isnull=False).count()
    seed_everything(org, members)
    assert BillingRun.objects.filter(organization=org, status=RunStatus.DONE).count() == runs == 3
    assert Document.objects.filter(organization=org, billing_run_id__isnull=False).count() == billed > 0
