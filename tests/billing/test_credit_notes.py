"""What a run owes back is credited by a credit note in the credit-note range that names
the invoices it corrects, never by a negative invoice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import BillingRunItem, RunStatus
from documents.models import Document, DocumentKind
from documents.services import schedule_pdf
from tests.billing import factories as f
from tests.billing.helpers import bill, credit_notes, invoices, lines_of
from tests.documents.conftest import pdf_text

D = Decimal
NOV, DEC, JAN = dt.date(2026, 11, 1), dt.date(2026, 12, 1), dt.date(2027, 1, 1)

pytestmark = pytest.mark.django_db


def test_it_credits_unused_days_by_a_credit_note_that_references_the_invoice(org):
    folder = f.folder(org)
    f.recurring(folder, price="30.00", start=NOV)
    [november] = invoices(org, bill(org, NOV))
    folder.end_date = dt.date(2026, 11, 20)
    folder.save()
    run = bill(org, DEC)
    assert run.status == RunStatus.DONE
    assert invoices(org, run) == []  # no negative invoice
    [credit] = credit_notes(org, run)
    assert credit.number.startswith("GS-2026-")
    assert credit.cancels_id == november.pk and not credit.cancellation
    assert (credit.total_net, credit.total_gross) == (D("-10.00"), D("-11.90"))
    assert lines_of(credit) == [
        ("SIP-Trunk Business", dt.date(2026, 11, 21), dt.date(2026, 11, 30), D("-1.000"), D("-10.00"))
    ]
    assert november.number in credit.intro_text
    assert credit.payment_method == "" and credit.due_date is None
    assert BillingRunItem.objects.get(run=run).document_id == credit.pk
    schedule_pdf(credit.pk, org.pk)
    credit.refresh_from_db()
    text = pdf_text(credit)
    assert "Rechnungskorrektur" in text and credit.number in text and november.number in text


def test_a_credit_note_names_every_invoice_whose_periods_it_corrects(org):
    folder = f.folder(org)
    f.recurring(folder, price="30.00", start=NOV)
    [november] = invoices(org, bill(org, NOV))
    [december] = invoices(org, bill(org, DEC))
    folder.end_date = dt.date(2026, 11, 20)  # back-dated: half of November, all of December
    folder.save()
    run = bill(org, JAN)
    [credit] = credit_notes(org, run)
    assert credit.cancels_id == december.pk  # the newest corrected invoice
    assert november.number in credit.intro_text and december.number in credit.intro_text
    assert credit.total_net == D("-40.00")
    # Line by line, each credit names the invoice line that billed its days.
    assert [(ln.reverses.document_id, ln.service_start, ln.net) for ln in credit.lines.all()] == [
        (november.pk, dt.date(2026, 11, 21), D("-10.00")),
        (december.pk, dt.date(2026, 12, 1), D("-30.00")),
    ]
    # December is credited in full and so closed; November only in part.
    november.refresh_from_db()
    december.refresh_from_db()
    assert (november.status, december.status) == ("issued", "cancelled")


def test_what_the_run_credited_counts_against_the_right_invoice(org, admin_user):
    from django.core.exceptions import ValidationError

    from documents.services import credit_note_partial

    folder = f.folder(org)
    f.recurring(folder, price="30.00", start=NOV)
    [november] = invoices(org, bill(org, NOV))
    f.recurring(folder, price="30.00", start=DEC)  # December carries a second service
    [december] = invoices(org, bill(org, DEC))
    folder.end_date = dt.date(2026, 11, 20)
    folder.save()
    bill(org, JAN)
    # November: 30.00 billed, 10.00 credited by the run, 20.00 left.
    with pytest.raises(ValidationError):
        credit_note_partial(invoice=november, user=admin_user, reason="Kulanz", amount=D("20.01"))
    credit_note_partial(invoice=november, user=admin_user, reason="Kulanz", amount=D("20.00"))
    november.refresh_from_db()
    assert november.status == "cancelled"


def test_charges_and_credits_stay_one_invoice_while_the_total_is_positive(org):
    folder = f.folder(org)
    line = f.recurring(folder, price="10.00", quantity="3", start=NOV)
    bill(org, NOV)
    f.change(line, effective_from=dt.date(2026, 11, 16), quantity="5")
    run = bill(org, DEC)
    [invoice] = invoices(org, run)
    assert invoice.total_net == D("60.00")
    assert credit_notes(org) == []


def test_a_credit_note_takes_no_number_of_the_invoice_range(org):
    first, second = f.folder(org), f.folder(org)
    f.recurring(first, price="30.00", start=NOV)
    f.recurring(second, price="30.00", start=NOV)
    bill(org, NOV)
    first.end_date = dt.date(2026, 11, 20)
    first.save()
    run = bill(org, DEC)
    numbers = sorted(d.number for d in Document.objects.filter(kind=DocumentKind.INVOICE))
    assert numbers == ["RE-2026-000001", "RE-2026-000002", "RE-2026-000003"]
    assert [d.number for d in credit_notes(org, run)] == ["GS-2026-000001"]
    assert run.invoices_count == 2


def test_the_run_delivers_its_credit_notes_with_its_invoices(org, mailoutbox):
    from django.test import TestCase

    from billing.services import billing_run_start

    payer = f.customer(org, delivery_method="email_pdf", invoice_email="rechnung@kunde.example")
    folder = f.folder(org, payer)
    f.recurring(folder, price="30.00", start=NOV)
    bill(org, NOV)
    folder.end_date = dt.date(2026, 11, 20)
    folder.save()
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = billing_run_start(organization=org, period=DEC, user=None, as_of=DEC, render_pdfs=True)
    [credit] = credit_notes(org, run)
    [mail] = mailoutbox
    assert mail.to == ["rechnung@kunde.example"] and credit.number in mail.subject + mail.body
    credit.refresh_from_db()
    assert credit.sent_at is not None


def test_the_invoice_page_lists_the_run_credit_note_and_what_it_credited(org, client_for, readonly_user):
    from django.urls import reverse

    from documents.selectors import credited_total

    folder = f.folder(org)
    f.recurring(folder, price="30.00", start=NOV)
    [november] = invoices(org, bill(org, NOV))
    [december] = invoices(org, bill(org, DEC))
    folder.end_date = dt.date(2026, 11, 20)
    folder.save()
    [credit] = credit_notes(org, bill(org, JAN))
    assert credited_total(november) == D("11.90")
    assert credited_total(december) == D("35.70")
    page = client_for(readonly_user).get(reverse("documents:detail", args=[november.pk])).content.decode()
    assert credit.number in page
