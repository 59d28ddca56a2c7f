"""Billing pages: list, preview, start, detail, progress - permissions, tenancy, bad input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone, translation

from billing.models import BillingRun, RunStatus
from documents.models import Document
from tests.billing import factories as f
from tests.billing.helpers import bill

pytestmark = pytest.mark.django_db


@pytest.fixture
def month():
    return timezone.localdate().replace(day=1)


@pytest.fixture
def book(org, month):
    folder = f.folder(org, f.customer(org, name="Bäckerei Schulz KG"))
    f.recurring(folder, price="89.00", start=month, description="Managed Print Service\nWartung")
    held = f.folder(
        org, f.customer(org, name="Reklamation GmbH"), billing_hold=True, billing_hold_reason="Streitfall"
    )
    f.recurring(held, start=month)
    return folder


@pytest.fixture
def run(org, book, month):
    return bill(org, month, as_of=timezone.localdate())


def test_the_list_shows_the_runs_with_their_figures(client_for, readonly_user, run):
    response = client_for(readonly_user).get(reverse("billing:runs"))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("billing:detail", args=[run.pk]) in body
    assert "105,91" in body  # gross of 89.00 + 19 %


def test_the_list_filters_by_status(client_for, readonly_user, run):
    response = client_for(readonly_user).get(reverse("billing:runs"), {"status": "failed"})
    assert reverse("billing:detail", args=[run.pk]) not in response.content.decode()


def test_the_preview_shows_each_invoice_line_by_line_and_the_skipped_folders(
    client_for, billing_user, book, month
):
    response = client_for(billing_user).get(reverse("billing:preview"), {"period": f"{month:%Y-%m}"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Bäckerei Schulz KG" in body
    assert "Managed Print Service" in body
    assert "89,00" in body
    assert "Reklamation GmbH" in body and "Streitfall" in body
    assert not Document.objects.exists()  # a dry run writes nothing
    assert not BillingRun.objects.exists()


def test_the_preview_rejects_a_bad_month_with_a_message(client_for, billing_user):
    response = client_for(billing_user).get(reverse("billing:preview"), {"period": "13/2026"})
    assert response.status_code == 200
    assert "JJJJ-MM" in response.content.decode() or "YYYY-MM" in response.content.decode()


def test_the_preview_needs_the_billing_permission(client_for, sales_user, readonly_user):
    for user in (sales_user, readonly_user):
        assert client_for(user).get(reverse("billing:preview")).status_code == 403


def test_starting_a_run_bills_and_redirects_to_it(client_for, billing_user, book, month):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client_for(billing_user).post(reverse("billing:start"), {"period": f"{month:%Y-%m}"})
    run = BillingRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("billing:detail", args=[run.pk])
    assert run.started_by == billing_user
    assert run.status == RunStatus.DONE
    assert Document.objects.filter(billing_run_id=run.pk).count() == 1


def test_starting_needs_the_billing_permission_and_a_post(
    client_for, sales_user, readonly_user, billing_user, month
):
    for user in (sales_user, readonly_user):
        assert (
            client_for(user).post(reverse("billing:start"), {"period": f"{month:%Y-%m}"}).status_code == 403
        )
    assert client_for(billing_user).get(reverse("billing:start")).status_code == 405
    assert not BillingRun.objects.exists()


def test_starting_without_or_with_a_bad_month_writes_nothing_and_says_why(client_for, billing_user):
    client = client_for(billing_user)
    for data in ({}, {"period": "next month"}, {"period": "2026-00"}):
        response = client.post(reverse("billing:start"), data, follow=True)
        assert response.status_code == 200
        assert list(response.context["messages"])
    assert not BillingRun.objects.exists()


def test_starting_while_a_run_is_active_is_refused_with_a_message(client_for, billing_user, org, month):
    BillingRun.objects.create(organization=org, period=month, as_of=month, status=RunStatus.RUNNING)
    response = client_for(billing_user).post(
        reverse("billing:start"), {"period": f"{month:%Y-%m}"}, follow=True
    )
    assert BillingRun.objects.count() == 1
    assert any("läuft" in str(m) or "running" in str(m) for m in response.context["messages"])


def test_the_detail_page_explains_the_run(client_for, readonly_user, run):
    response = client_for(readonly_user).get(reverse("billing:detail", args=[run.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    invoice = Document.objects.get(billing_run_id=run.pk)
    assert invoice.number in body
    assert "Reklamation GmbH" in body and "Streitfall" in body
    assert 'hx-get="' not in body  # finished: no polling


def test_the_detail_page_filters_skips_by_reason(client_for, readonly_user, run):
    response = client_for(readonly_user).get(reverse("billing:detail", args=[run.pk]), {"reason": "trial"})
    assert "Reklamation GmbH" not in response.content.decode()
    response = client_for(readonly_user).get(reverse("billing:detail", args=[run.pk]), {"reason": "nonsense"})
    assert response.status_code == 200


def test_the_progress_bar_polls_while_the_run_is_active_and_reloads_the_page_at_the_end(
    client_for, readonly_user, org, month
):
    active = BillingRun.objects.create(
        organization=org, period=month, as_of=month, status=RunStatus.RUNNING, payers_total=10, payers_done=4
    )
    client = client_for(readonly_user)
    detail = client.get(reverse("billing:detail", args=[active.pk])).content.decode()
    assert f'hx-get="{reverse("billing:progress", args=[active.pk])}"' in detail
    partial = client.get(reverse("billing:progress", args=[active.pk]), HTTP_HX_REQUEST="true")
    assert "40 %" in partial.content.decode()
    assert "HX-Refresh" not in partial
    active.status = RunStatus.DONE
    active.save()
    done = client.get(reverse("billing:progress", args=[active.pk]), HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"


def test_another_organizations_run_is_not_found(client_for, outsider, run):
    client = client_for(outsider)
    assert client.get(reverse("billing:detail", args=[run.pk])).status_code == 404
    assert client.get(reverse("billing:progress", args=[run.pk])).status_code == 404
    assert (
        reverse("billing:detail", args=[run.pk]) not in client.get(reverse("billing:runs")).content.decode()
    )


def test_the_outsiders_preview_shows_nothing_of_the_organization(client_for, outsider, book, month):
    response = client_for(outsider).get(reverse("billing:preview"), {"period": f"{month:%Y-%m}"})
    assert response.status_code == 200
    assert "Bäckerei Schulz KG" not in response.content.decode()


def test_an_unknown_run_is_a_404(client_for, readonly_user):
    assert client_for(readonly_user).get(reverse("billing:detail", args=[987654])).status_code == 404


def test_read_views_refuse_posts(client_for, billing_user, run):
    client = client_for(billing_user)
    assert client.post(reverse("billing:runs")).status_code == 405
    assert client.post(reverse("billing:detail", args=[run.pk])).status_code == 405


def test_english_is_available(client_for, readonly_user, run):
    client = client_for(readonly_user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("billing:detail", args=[run.pk]))
    assert "Billing run" in response.content.decode()


def test_a_past_month_can_be_previewed(client_for, billing_user, book):
    response = client_for(billing_user).get(reverse("billing:preview"), {"period": "2020-01"})
    assert response.status_code == 200
    assert dt.date(2020, 1, 1) == response.context["period"]


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_and_detail_cost_the_same_queries_for_few_or_many_invoices(
    client_for, readonly_user, org, month
):
    client = client_for(readonly_user)
    client.get(reverse("billing:runs"))  # the session's first request loads more
    f.recurring(f.folder(org), start=month)
    f.recurring(f.folder(org, billing_hold=True, billing_hold_reason="x"), start=month)
    small = bill(org, month, as_of=timezone.localdate())
    few = (
        _queries(client, reverse("billing:runs")),
        _queries(client, reverse("billing:detail", args=[small.pk])),
    )
    for n in range(12):
        folder = f.folder(
            org, f.customer(org, name=f"Viele {n}"), billing_hold=n % 3 == 0, billing_hold_reason="x"
        )
        f.recurring(folder, start=month)
    large = bill(org, month, as_of=timezone.localdate())
    many = (
        _queries(client, reverse("billing:runs")),
        _queries(client, reverse("billing:detail", args=[large.pk])),
    )
    assert (small.invoices_count, large.invoices_count) == (1, 8)
    assert many == few


def test_the_preview_of_a_month_too_far_ahead_offers_no_start(client_for, billing_user, book):
    from django.utils import timezone

    from billing.services import month_of
    from organizations.months import first_of_month_after

    far = first_of_month_after(month_of(timezone.localdate()), 2)
    response = client_for(billing_user).get(reverse("billing:preview"), {"period": f"{far:%Y-%m}"})
    assert response.status_code == 200 and response.context["too_early"]
    page = response.content.decode()
    assert "höchstens einen Monat im Voraus" in page
    assert reverse("billing:start") not in page
    near = client_for(billing_user).get(
        reverse("billing:preview"), {"period": f"{month_of(timezone.localdate()):%Y-%m}"}
    )
    assert reverse("billing:start") in near.content.decode()


def test_a_run_left_running_by_a_lost_task_is_resumed_from_its_page(
    client_for, billing_user, readonly_user, org
):
    from django.test import TestCase

    from billing.models import BillingRun, RunStatus
    from billing.services import billing_run_start
    from tests.billing import factories as f
    from tests.billing.helpers import invoices

    f.recurring(f.folder(org), start=dt.date(2026, 11, 1))
    # Queued, but the hand-over to the workers was lost (no on-commit callback ran).
    run = billing_run_start(
        organization=org, period=dt.date(2026, 11, 1), user=None, as_of=dt.date(2026, 11, 1)
    )
    assert run.status == RunStatus.PENDING
    url = reverse("billing:resume", args=[run.pk])
    assert client_for(readonly_user).post(url).status_code == 403
    page = client_for(billing_user).get(reverse("billing:detail", args=[run.pk])).content.decode()
    assert url in page
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client_for(billing_user).post(url)
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and len(invoices(org, run)) == 1
    # Done: nothing to resume any more.
    client_for(billing_user).post(url)
    assert BillingRun.objects.get().invoices_count == 1
    assert url not in client_for(billing_user).get(reverse("billing:detail", args=[run.pk])).content.decode()


def test_it_shows_the_whole_months_totals_above_a_paged_preview(
    client_for, billing_user, org, book, month, monkeypatch
):
    from billing import views

    monkeypatch.setattr(views, "PREVIEW_ACCOUNTS_PER_PAGE", 1)
    f.recurring(f.folder(org, f.customer(org, name="Zahnarzt Dr. Weiß")), price="11.00", start=month)
    response = client_for(billing_user).get(reverse("billing:preview"), {"period": f"{month:%Y-%m}"})
    assert response.status_code == 200
    assert len(response.context["invoices"]) == 1  # the page shows one account ...
    totals = response.context["preview"].month
    # ... the summary counts the month: 89.00 + 11.00 net, 19 % VAT, one held folder.
    assert (totals.invoices, totals.net, totals.tax, totals.gross) == (
        2,
        Decimal("100.00"),
        Decimal("19.00"),
        Decimal("119.00"),
    )
    assert [(reason, count) for reason, _label, count in totals.skips_by_reason] == [("hold", 1)]
    body = response.content.decode()
    assert "119,00" in body and "19,00" in body


@pytest.mark.django_db(transaction=True)
def test_it_says_so_and_lists_no_run_when_a_month_has_nothing_new(client_for, billing_user, run, month):
    # Committed for real, so the (eager) run has finished when the start answers.
    client = client_for(billing_user)
    response = client.post(reverse("billing:start"), {"period": f"{month:%Y-%m}"}, follow=True)
    body = response.content.decode()
    assert "ist nichts Neues abzurechnen – kein Lauf angelegt" in body
    assert response.redirect_chain[-1][0].startswith(reverse("billing:preview"))
    listed = client.get(reverse("billing:runs")).context["table"].data.data
    assert list(listed) == [run]  # the first run only
    # Kept for the scheduler: the month counts as done.
    again = BillingRun.objects.exclude(pk=run.pk).get()
    assert again.status == RunStatus.DONE and again.nothing_new


def test_it_shows_the_run_log_in_the_readers_language(client_for, readonly_user, run):
    from billing.models import BillingRun as Run

    # Plain text from before the log stored codes is shown as it was written.
    Run.objects.filter(pk=run.pk).update(
        log=[*run.log, {"at": run.log[-1]["at"], "level": "info", "message": "Alter Eintrag."}]
    )
    assert all(isinstance(entry["message"], dict) for entry in run.log)  # stored as codes
    client = client_for(readonly_user)
    german = client.get(reverse("billing:detail", args=[run.pk])).content.decode()
    assert "Beendet: 1 Rechnungen" in german and "Alter Eintrag." in german
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = client.get(reverse("billing:detail", args=[run.pk])).content.decode()
    assert "Finished: 1 invoices, 1 folders skipped, 0 failures." in english
    assert "Alter Eintrag." in english and "Beendet:" not in english


def test_it_labels_units_for_the_quantity_in_the_readers_language(client_for, billing_user, org, month):
    from documents.models import DocumentLine

    folder = f.folder(org, f.customer(org, name="Praxis Lindner"))
    f.recurring(folder, price="10.00", quantity="3", unit="licence", start=month, description="Office 365")
    client = client_for(billing_user)
    preview = client.get(reverse("billing:preview"), {"period": f"{month:%Y-%m}"}).content.decode()
    assert "Lizenzen" in preview
    folder_page = client.get(reverse("folders:detail", args=[folder.pk])).content.decode()
    assert "3 Lizenzen" in folder_page
    run = bill(org, month, as_of=timezone.localdate())
    line = DocumentLine.objects.get(document__billing_run_id=run.pk, description="Office 365")
    assert line.unit == "licence"  # a code, labelled where it is shown
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("documents:detail", args=[line.document_id])).content.decode()
    assert "licences" in page and "Lizenzen" not in page
    assert "3 licences" in client.get(reverse("folders:detail", args=[folder.pk])).content.decode()


def test_the_migration_stores_known_unit_words_as_codes(org, month):
    import importlib

    from django.apps import apps

    from documents.models import DocumentLine

    f.recurring(f.folder(org), start=month, description="Wartung")
    run = bill(org, month, as_of=timezone.localdate())
    # Issued lines refuse updates through their manager; the migration goes around it.
    lines = DocumentLine._base_manager.filter(document__billing_run_id=run.pk)
    migration = importlib.import_module("documents.migrations.0006_document_line_unit_codes")
    lines.update(unit="Monat")
    migration.to_codes(apps, None)
    assert set(lines.values_list("unit", flat=True)) == {"month"}
    lines.update(unit="Karton")
    migration.to_codes(apps, None)
    assert set(lines.values_list("unit", flat=True)) == {"Karton"}  # unknown words stay


def test_the_previews_month_totals_cost_no_queries_per_account(
    client_for, billing_user, org, month, monkeypatch
):
    from billing import views

    monkeypatch.setattr(views, "PREVIEW_ACCOUNTS_PER_PAGE", 1)
    client = client_for(billing_user)
    url = f"{reverse('billing:preview')}?period={month:%Y-%m}"
    f.recurring(f.folder(org, f.customer(org, name="Erster")), start=month)
    client.get(url)  # the session's first request loads more
    few = _queries(client, url)
    for n in range(8):
        f.recurring(f.folder(org, f.customer(org, name=f"Viele {n}")), start=month)
    many = _queries(client, url)
    assert many == few


def test_the_month_is_picked_from_a_list_named_in_the_users_language(client_for, billing_user):
    from django.utils.formats import date_format

    this_month = timezone.localdate().replace(day=1)
    page = client_for(billing_user).get(reverse("billing:preview")).content.decode()
    assert 'type="month"' not in page
    with translation.override("de"):
        german = date_format(this_month, "F Y")
    assert f'<option value="{this_month:%Y-%m}"' in page and german in page


def test_paging_the_preview_plans_only_the_pages_accounts(client_for, billing_user, org, month, monkeypatch):
    from billing import planning, views

    monkeypatch.setattr(views, "PREVIEW_ACCOUNTS_PER_PAGE", 1)
    for n in range(3):
        f.recurring(f.folder(org, f.customer(org, name=f"Kunde {n}")), start=month)
    planned = []
    plan_accounts = planning.plan_accounts

    def recording(**kwargs):
        planned.append(list(kwargs["customer_ids"]))
        return plan_accounts(**kwargs)

    monkeypatch.setattr(planning, "plan_accounts", recording)
    client = client_for(billing_user)
    url = f"{reverse('billing:preview')}?period={month:%Y-%m}"
    first = client.get(url).content.decode()
    assert 'id="preview-detail"' in first and 'hx-select="#preview-detail"' in first
    assert sum(len(ids) for ids in planned) == 3  # the whole month, for its totals
    planned.clear()
    page = client.get(f"{url}&page=2", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="preview-detail")
    assert page.status_code == 200 and 'id="preview-detail"' in page.content.decode()
    assert planned == [[planning.account_ids(organization=org, period=month)[1]]]


def test_the_preview_says_hardware_goes_to_the_end_customer_after_a_rejected_financing(
    org, client_for, billing_user, month
):
    folder = f.folder(org, f.customer(org, name="Bäckerei Schulz KG"))
    f.finance(folder, f.financier(org, name="GRENKE Leasing AG"), status="rejected")
    f.oneoff(folder, price="4290.00", delivered_on=month - dt.timedelta(days=3))
    response = client_for(billing_user).get(reverse("billing:preview"), {"period": f"{month:%Y-%m}"})
    body = response.content.decode()
    assert "4.290,00" in body
    assert "Direktverkauf: Finanzierung abgelehnt" in body
    assert "GRENKE Leasing AG hat die Finanzierung abgelehnt" in body
    assert "Bäckerei Schulz KG als Direktverkauf in Rechnung gestellt" in body


def test_a_run_stopped_by_an_unexpected_error_says_what_happened_without_the_traceback(
    org, client_for, billing_user, book, month, monkeypatch
):
    from billing import planning

    def broken(**kwargs):
        raise RuntimeError("pricing cache unreachable\nTraceback (most recent call last): ...")

    monkeypatch.setattr(planning, "account_ids", broken)
    run = bill(org, month, as_of=timezone.localdate())
    assert run.status == RunStatus.FAILED
    assert run.failure == {
        "code": "billing.run_error",
        "params": {"exception": "RuntimeError", "detail": "pricing cache unreachable"},
    }
    assert "Traceback" not in run.error and "RuntimeError(" not in run.error
    client = client_for(billing_user)
    body = client.get(reverse("billing:detail", args=[run.pk])).content.decode()
    assert "Der Abrechnungslauf wurde durch einen unerwarteten Fehler angehalten" in body
    assert "(RuntimeError: pricing cache unreachable)" in body
    assert "Traceback" not in body
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = client.get(reverse("billing:detail", args=[run.pk])).content.decode()
    assert "The billing run stopped on an unexpected error (RuntimeError: pricing cache unreachable)" in body


def test_a_run_whose_chunk_failed_names_the_cause_in_the_readers_language(
    org, client_for, billing_user, book, month, monkeypatch
):
    from billing import chunks

    def dies(run, planned):
        raise RuntimeError("database went away")

    monkeypatch.setattr(chunks, "_store", dies)
    run = bill(org, month, as_of=timezone.localdate())
    assert run.status == RunStatus.FAILED
    assert run.failure["code"] == "billing.run_chunks_failed"
    assert run.failure["params"]["cause"] == "RuntimeError: database went away"
    body = client_for(billing_user).get(reverse("billing:detail", args=[run.pk])).content.decode()
    assert 'id="run-error"' in body
    assert "Ursache: RuntimeError: database went away" in body
    assert "RuntimeError(" not in body
