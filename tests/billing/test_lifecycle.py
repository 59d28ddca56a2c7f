"""Contract lifecycle alerts, the daily beat, and deferred revenue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import TestCase

from billing.models import BillingRun, RunStatus
from billing.selectors import deferred_revenue
from billing.services import contract_alerts_create
from billing.tasks import billing_beat_task
from customers.models import Action
from customers.selectors import actions_between
from documents.models import Document, DocumentKind, DocumentStatus
from tests.billing import factories as f
from tests.billing.helpers import bill, invoices

D = Decimal
pytestmark = pytest.mark.django_db


def contract(org, owner=None, **kwargs):
    defaults = {
        "start_date": dt.date(2026, 1, 1),
        "minimum_term_months": 12,
        "notice_period_months": 3,
        "auto_renew": True,
        "owner": owner,
    }
    defaults.update(kwargs)
    folder = f.folder(org, **defaults)
    f.recurring(
        folder, price="49.00", start=dt.date(2026, 1, 1), description="Managed Firewall\nFortiGate 60F"
    )
    return folder


def test_it_raises_an_action_before_the_notice_deadline_for_the_account_manager(org, sales_user):
    folder = contract(org, owner=sales_user)
    [alert] = contract_alerts_create(organization=org, today=dt.date(2026, 8, 1))
    assert (alert.kind, alert.event_date) == ("notice_deadline", dt.date(2026, 9, 30))
    action = alert.action
    assert action.customer == folder.customer
    assert action.assignee == sales_user
    assert action.due_on == dt.date(2026, 9, 30)
    assert folder.number in action.description
    assert action.source == f"billing:notice_deadline:{folder.pk}:2026-09-30"
    assert action in actions_between(start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 30))


def test_it_raises_each_alert_once(org, sales_user):
    contract(org, owner=sales_user)
    assert len(contract_alerts_create(organization=org, today=dt.date(2026, 8, 1))) == 1
    assert contract_alerts_create(organization=org, today=dt.date(2026, 8, 2)) == []
    assert Action.objects.count() == 1


def test_at_the_term_end_it_drafts_a_renewal_quote_when_the_folder_asks_for_one(org, sales_user):
    folder = contract(org, owner=sales_user, auto_renewal_quote=True, alert_days_before_end=30)
    alerts = contract_alerts_create(organization=org, today=dt.date(2026, 12, 5))
    [alert] = [a for a in alerts if a.kind == "term_end"]
    assert alert.event_date == dt.date(2026, 12, 31)
    quote = alert.quote
    assert (quote.kind, quote.status, quote.number) == (DocumentKind.QUOTE, DocumentStatus.DRAFT, "")
    assert quote.customer == folder.customer == quote.payer
    assert [line.description for line in quote.lines.all()] == ["Managed Firewall"]
    assert "01.01.2027" in quote.terms_text
    assert "renewal quote" in alert.action.description or "Verlängerungsangebot" in alert.action.description


def test_a_renewed_term_raises_new_alerts(org, sales_user):
    contract(org, owner=sales_user, alert_days_before_end=10)
    first = contract_alerts_create(organization=org, today=dt.date(2026, 12, 25))
    later = contract_alerts_create(organization=org, today=dt.date(2027, 12, 25))
    assert [a.event_date for a in first] == [dt.date(2026, 12, 31)]
    assert [a.event_date for a in later] == [dt.date(2027, 12, 31)]


def test_without_account_manager_the_customers_owner_gets_the_action(org, billing_user):
    folder = contract(org, owner=None)
    folder.customer.owner = billing_user
    folder.customer.save()
    [alert] = contract_alerts_create(organization=org, today=dt.date(2026, 8, 1))
    assert alert.action.assignee == billing_user


def test_the_daily_beat_starts_the_run_on_the_billing_day_only(org, monkeypatch):
    folder = f.folder(org)
    f.recurring(folder, start=dt.date(2026, 11, 1))
    org.billing_day = 3
    org.save()
    monkeypatch.setattr("billing.tasks.timezone.localdate", lambda *a: dt.date(2026, 11, 2))
    with TestCase.captureOnCommitCallbacks(execute=True):
        billing_beat_task()
    assert not BillingRun.objects.exists()
    monkeypatch.setattr("billing.tasks.timezone.localdate", lambda *a: dt.date(2026, 11, 3))
    with TestCase.captureOnCommitCallbacks(execute=True):
        billing_beat_task()
        billing_beat_task()  # a second beat the same day starts nothing new
    run = BillingRun.objects.get()
    assert (run.period, run.status, run.trigger) == (dt.date(2026, 11, 1), RunStatus.DONE, "schedule")
    assert len(invoices(org)) == 1


def _beat_on(monkeypatch, day: dt.date) -> None:
    monkeypatch.setattr("billing.tasks.timezone.localdate", lambda *a: day)
    with TestCase.captureOnCommitCallbacks(execute=True):
        billing_beat_task()


def test_a_missed_billing_day_is_caught_up_later_in_the_month(org, monkeypatch):
    f.recurring(f.folder(org), start=dt.date(2026, 11, 1))
    org.billing_day = 3
    org.save()
    _beat_on(monkeypatch, dt.date(2026, 11, 5))  # the beat did not run on the 3rd and 4th
    run = BillingRun.objects.get()
    assert (run.period, run.status) == (dt.date(2026, 11, 1), RunStatus.DONE)
    _beat_on(monkeypatch, dt.date(2026, 11, 6))
    assert BillingRun.objects.count() == 1


def test_a_refused_scheduled_start_is_recorded_and_retried_the_next_day(org, monkeypatch):
    f.recurring(f.folder(org), start=dt.date(2026, 11, 1))
    vat_id, tax_number = org.vat_id, org.tax_number
    org.vat_id = org.tax_number = ""
    org.save()
    _beat_on(monkeypatch, dt.date(2026, 11, 1))
    _beat_on(monkeypatch, dt.date(2026, 11, 2))
    [refused] = BillingRun.objects.all()
    assert (refused.status, refused.trigger) == (RunStatus.FAILED, "schedule")
    assert "Steuernummer" in refused.error or "tax number" in refused.error
    org.vat_id, org.tax_number = vat_id or "DE136695976", tax_number
    org.save()
    _beat_on(monkeypatch, dt.date(2026, 11, 3))
    done = BillingRun.objects.exclude(pk=refused.pk).get()
    assert done.status == RunStatus.DONE and len(invoices(org)) == 1


def test_the_beat_schedule_runs_daily_early_in_the_morning():
    from django.conf import settings

    [entry] = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "billing.tasks.billing_beat_task"
    ]
    assert entry["schedule"].hour == {3}


def test_deferred_revenue_splits_a_yearly_invoice_over_its_months(org):
    folder = f.folder(org)
    f.recurring(folder, price="1200.00", cycle=12, start=dt.date(2026, 1, 1), description="Jahreslizenz")
    bill(org, dt.date(2026, 1, 1))
    january = deferred_revenue(org, month=dt.date(2026, 1, 1))
    assert january.recognized == D("101.92")  # 1200 x 31/365
    assert january.deferred == D("1098.08")
    months = [deferred_revenue(org, month=dt.date(2026, m, 1)).recognized for m in range(1, 13)]
    assert sum(months) == D("1200.00")  # the months add up to the invoice, to the cent
    assert deferred_revenue(org, month=dt.date(2026, 12, 1)).deferred == D("0")
    assert deferred_revenue(org, month=dt.date(2027, 1, 1)).recognized == D("0")


def test_deferred_revenue_counts_credit_notes_and_ignores_other_organizations(org, other_org):
    folder = f.folder(org)
    f.recurring(folder, price="300.00", cycle=3, start=dt.date(2026, 10, 1))
    bill(org, dt.date(2026, 10, 1))
    other = f.folder(other_org)
    f.recurring(other, price="999.00", cycle=3, start=dt.date(2026, 10, 1))
    bill(other_org, dt.date(2026, 10, 1))
    folder.end_date = dt.date(2026, 10, 31)
    folder.save()
    bill(org, dt.date(2026, 11, 1))  # credits November and December on the next invoice
    assert deferred_revenue(org, month=dt.date(2026, 10, 1)).recognized == D("101.09")
    assert deferred_revenue(org, month=dt.date(2026, 11, 1)).recognized == D("0.00")
    assert Document.objects.filter(organization=org).count() == 2


def test_the_beat_does_not_start_the_month_again_after_a_run_with_nothing_new(org, monkeypatch):
    org.billing_day = 3
    org.save()
    _beat_on(monkeypatch, dt.date(2026, 11, 3))  # nothing to bill yet
    run = BillingRun.objects.get()
    assert run.nothing_new and run.status == RunStatus.DONE
    _beat_on(monkeypatch, dt.date(2026, 11, 4))
    _beat_on(monkeypatch, dt.date(2026, 11, 5))
    assert BillingRun.objects.count() == 1  # the month is done, not tried every day


def test_it_shows_a_contract_alert_in_the_readers_language(org, sales_user, client_for):
    from django.urls import reverse
    from django.utils import translation

    folder = contract(org, owner=sales_user)
    [alert] = contract_alerts_create(organization=org, today=dt.date(2026, 8, 1))
    action = Action.objects.get(pk=alert.action.pk)
    assert action.system_text["code"] == "billing.contract_alert"
    assert action.description.startswith(f"Kündigungsfrist für Ordner {folder.number}")  # searchable
    with translation.override("en"):
        assert action.text.startswith(f"Notice deadline for folder {folder.number} {folder.name}: 30/09/2026")
    with translation.override("de"):
        assert action.text == action.description
    client = client_for(sales_user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("customers:detail", args=[folder.customer_id]), {"tab": "actions"})
    assert f"Notice deadline for folder {folder.number}" in page.content.decode()
    # Someone edits the text: their words stand, in every language.
    Action.objects.filter(pk=action.pk).update(description="Kunde anrufen")
    with translation.override("en"):
        assert Action.objects.get(pk=action.pk).text == "Kunde anrufen"
