"""The upload page stores a bank statement and a worker books it after commit; the
statement page shows queued, booking, done or failed with the reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from demo.camt_sample import SampleEntry, camt_xml
from payments import selectors, statements
from payments.models import BankStatement, ImportStatus, Payment, StatementEntry
from payments.tasks import statement_book_task
from tests.customers.factories import CustomerFactory
from tests.payments.factories import issued_invoice

D = Decimal
TODAY = dt.date(2026, 12, 1)
pytestmark = pytest.mark.usefixtures("on_ledger_day")


@pytest.fixture
def invoice(org):
    payer = CustomerFactory(organization=org, name="Bäckerei Schulz GmbH")
    return issued_invoice(org, payer, "119.00")


def _upload(client, invoice):
    data = camt_xml(
        [SampleEntry(D("119.00"), remittance=invoice.number, bank_reference="W1")],
        account_iban="DE02120300000000202051",
    )
    return client.post(
        reverse("payments:statement_upload"), {"file": SimpleUploadedFile("auszug.xml", data)}, follow=True
    )


def test_the_upload_queues_the_booking_and_the_page_follows_it(
    org, invoice, billing, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = _upload(billing, invoice)
    statement = BankStatement.objects.get()
    assert statement.import_status == ImportStatus.PENDING and len(callbacks) == 1
    assert not StatementEntry.objects.exists() and selectors.open_amount(invoice) == D("119.00")
    html = page.content.decode()
    assert (
        reverse("payments:statement_progress", args=[statement.pk]) in html
        and 'hx-trigger="every 2s"' in html
    )
    polled = billing.get(reverse("payments:statement_progress", args=[statement.pk]), HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in polled
    callbacks[0]()  # the worker
    statement.refresh_from_db()
    assert statement.import_status == ImportStatus.DONE and selectors.open_amount(invoice) == 0
    polled = billing.get(reverse("payments:statement_progress", args=[statement.pk]), HTTP_HX_REQUEST="true")
    assert polled["HX-Refresh"] == "true"
    assert (
        "statement-import"
        not in billing.get(reverse("payments:statement", args=[statement.pk])).content.decode()
    )


def test_a_failed_booking_shows_its_reason_books_nothing_and_can_start_again(
    org, invoice, billing, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(**kwargs):
        raise ValidationError("Die Datenbank war nicht erreichbar.")

    real = statements.entries_book
    monkeypatch.setattr(statements, "entries_book", broken)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(billing, invoice)
    statement = BankStatement.objects.get()
    assert statement.import_status == ImportStatus.FAILED
    assert statement.import_error == "Die Datenbank war nicht erreichbar."
    assert not StatementEntry.objects.exists() and not Payment.objects.exists()
    html = billing.get(reverse("payments:statement", args=[statement.pk])).content.decode()
    assert "Die Datenbank war nicht erreichbar." in html
    assert reverse("payments:statement_retry", args=[statement.pk]) in html
    monkeypatch.setattr(statements, "entries_book", real)
    with django_capture_on_commit_callbacks(execute=True):
        billing.post(reverse("payments:statement_retry", args=[statement.pk]))
    statement.refresh_from_db()
    assert (statement.import_status, statement.import_error) == (ImportStatus.DONE, "")
    assert selectors.open_amount(invoice) == 0
    # Only a failed import starts again.
    page = billing.post(reverse("payments:statement_retry", args=[statement.pk]), follow=True)
    assert [m.level_tag for m in page.context["messages"]][-1] == "error"


def test_a_task_delivered_twice_books_once(org, invoice, billing, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _upload(billing, invoice)
    statement = BankStatement.objects.get()
    assert statement_book_task(statement.pk, org.pk) == "done"
    assert StatementEntry.objects.count() == 1 and Payment.objects.count() == 1


def test_readers_see_the_state_but_cannot_start_an_import_again(
    org, invoice, billing, client_for, readonly_user, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(statements, "entries_book", lambda **kwargs: 1 / 0)
    with pytest.raises(ZeroDivisionError), django_capture_on_commit_callbacks(execute=True):
        _upload(billing, invoice)
    statement = BankStatement.objects.get()
    assert statement.import_status == ImportStatus.FAILED and "division" in statement.import_error
    reader = client_for(readonly_user)
    html = reader.get(reverse("payments:statement", args=[statement.pk])).content.decode()
    assert "division" in html and reverse("payments:statement_retry", args=[statement.pk]) not in html
    assert reader.post(reverse("payments:statement_retry", args=[statement.pk])).status_code == 403
