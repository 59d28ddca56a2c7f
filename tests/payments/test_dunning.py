"""Dunning that is always justified: what is dunned, at which level, and what it books."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pdfplumber
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from documents.models import Document, DocumentKind, DocumentStatus
from documents.services import post_print
from organizations.models import NumberSequence
from payments import dunning_selectors as selectors
from payments import dunning_services as services
from payments import selectors as ledger
from payments.dunning_engine import HoldReason
from payments.models import (
    BatchStatus,
    Charge,
    ChargeKind,
    DirectDebitBatch,
    DirectDebitItem,
    DunningLetter,
    DunningLevel,
    DunningNotice,
    LetterDelivery,
)
from tests.customers.factories import CustomerFactory
from tests.payments.factories import issued_credit_note, issued_invoice, pay

D = Decimal
TODAY = dt.date(2026, 12, 1)
# Due 2026-11-16: 15 days overdue on TODAY, past level 1's 7 days.
ISSUED = dt.date(2026, 11, 2)


@pytest.fixture
def payer(org):
    return CustomerFactory(organization=org, name="Bäckerei Schulz GmbH")


def proposal(org, today=TODAY):
    return selectors.dunning_proposal(organization=org, today=today)


def dunned_numbers(org, today=TODAY) -> set[str]:
    return {item.invoice.number for p in proposal(org, today).payers for item in p.items}


def held(org, invoice, today=TODAY) -> str:
    return next(h.reason for h in proposal(org, today).held if h.invoice.pk == invoice.pk)


def approve(org, user, payers, today=TODAY, run_on_commit=None):
    ids = [p.pk for p in payers]
    if run_on_commit is not None:
        return run_on_commit(
            services.dunning_run_approve, organization=org, user=user, payer_ids=ids, today=today
        )
    return services.dunning_run_approve(organization=org, user=user, payer_ids=ids, today=today)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    def call(fn, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return call


# --- what is dunned ---------------------------------------------------------------------


def test_it_proposes_an_overdue_invoice_at_the_reminder_level(org, payer):
    invoice = issued_invoice(org, payer, "119.00", issue_date=ISSUED)
    [entry] = proposal(org).payers
    assert entry.payer == payer
    [item] = entry.items
    assert item.invoice == invoice and item.level == 1 and item.open == D("119.00")
    assert item.days_overdue == 15
    assert entry.fee == 0 and entry.total == D("119.00")


def test_it_waits_the_configured_days_after_the_due_date(org, payer):
    invoice = issued_invoice(org, payer, issue_date=ISSUED)  # due 16.11.
    assert dunned_numbers(org, dt.date(2026, 11, 22)) == set()
    assert held(org, invoice, dt.date(2026, 11, 22)) == HoldReason.WAITING
    assert dunned_numbers(org, dt.date(2026, 11, 23)) == {invoice.number}


def test_it_never_duns_a_paid_invoice(org, payer, billing_user):
    invoice = issued_invoice(org, payer, issue_date=ISSUED)
    pay(org, billing_user, payer, "119.00")
    assert dunned_numbers(org) == set()
    assert invoice.number not in {h.invoice.number for h in proposal(org).held}


def test_it_duns_only_what_is_left_of_a_partly_paid_invoice(org, payer, billing_user):
    issued_invoice(org, payer, issue_date=ISSUED)
    pay(org, billing_user, payer, "19.00")
    [entry] = proposal(org).payers
    assert entry.items[0].open == D("100.00")


def test_it_never_duns_a_cancelled_or_credited_invoice(org, payer):
    cancelled = issued_invoice(org, payer, issue_date=ISSUED, status=DocumentStatus.CANCELLED)
    issued_credit_note(cancelled, "119.00", cancellation=True)
    credited = issued_invoice(org, payer, issue_date=ISSUED)
    issued_credit_note(credited, "119.00")
    assert dunned_numbers(org) == set()


def test_it_never_duns_an_invoice_in_a_pending_collection(org, payer):
    invoice = issued_invoice(org, payer, issue_date=ISSUED)
    batch = DirectDebitBatch.objects.create(
        organization=org, collection_date=TODAY, status=BatchStatus.SUBMITTED
    )
    DirectDebitItem.objects.create(
        organization=org,
        batch=batch,
        document=invoice,
        payer=payer,
        amount=D("119.00"),
        end_to_end_id=invoice.number,
    )
    assert dunned_numbers(org) == set()
    assert held(org, invoice) == HoldReason.PENDING


def test_it_never_duns_a_disputed_invoice_until_the_dispute_is_resolved(org, payer, billing_user):
    invoice = issued_invoice(org, payer, issue_date=ISSUED)
    dispute = services.dispute_open(
        organization=org, invoice=invoice, note="Lieferung unvollständig", since=TODAY, user=billing_user
    )
    assert dunned_numbers(org) == set()
    assert held(org, invoice) == HoldReason.DISPUTED
    services.dispute_resolve(dispute=dispute, on=TODAY, user=billing_user)
    assert dunned_numbers(org) == {invoice.number}


def test_a_second_open_dispute_of_one_invoice_is_refused(org, payer, billing_user):
    invoice = issued_invoice(org, payer, issue_date=ISSUED)
    services.dispute_open(organization=org, invoice=invoice, note="falsch", since=TODAY, user=billing_user)
    with pytest.raises(ValidationError):
        services.dispute_open(
            organization=org, invoice=invoice, note="nochmal", since=TODAY, user=billing_user
        )


def test_it_never_duns_a_customer_under_a_dunning_stop_while_it_applies(org, payer, billing_user):
    invoice = issued_invoice(org, payer, issue_date=ISSUED)
    stop = services.dunning_stop_add(
        organization=org,
        customer=payer,
        note="Ratenzahlung vereinbart",
        since=dt.date(2026, 11, 20),
        until=dt.date(2026, 12, 10),
        user=billing_user,
    )
    assert dunned_numbers(org) == set()
    assert held(org, invoice) == HoldReason.STOPPED
    # After its last day the stop no longer applies.
    assert dunned_numbers(org, dt.date(2026, 12, 11)) == {invoice.number}
    services.dunning_stop_lift(stop=stop, on=TODAY, user=billing_user)
    assert dunned_numbers(org) == {invoice.number}


def test_a_stop_that_ends_before_it_begins_is_refused(org, payer, billing_user):
    with pytest.raises(ValidationError):
        services.dunning_stop_add(
            organization=org,
            customer=payer,
            note="x",
            since=TODAY,
            until=TODAY - dt.timedelta(days=1),
            user=billing_user,
        )


def test_a_payment_booked_the_same_day_wins_over_the_shown_proposal(org, payer, billing_user):
    issued_invoice(org, payer, issue_date=ISSUED)
    assert proposal(org).payers  # the clerk sees the proposal ...
    pay(org, billing_user, payer, "119.00")  # ... the money arrives before approving
    before = NumberSequence.objects.filter(organization=org, kind="dunning_letter").count()
    result = approve(org, billing_user, [payer])
    assert result.run is None and result.letters == []
    assert [name for name, _why in result.skipped] == [payer.name]
    assert not Document.objects.filter(kind=DocumentKind.DUNNING_LETTER).exists()
    assert not Charge.objects.exists()
    assert (
        NumberSequence.objects.filter(organization=org, kind="dunning_letter", last_number__gt=0).count()
        == before
    )


# --- levels and progression --------------------------------------------------------------


def test_levels_progress_only_after_the_configured_days_since_the_previous_letter(org, payer, billing_user):
    invoice = issued_invoice(org, payer, issue_date=ISSUED)
    approve(org, billing_user, [payer], today=TODAY)
    assert DunningNotice.objects.get(invoice=invoice).level == 1
    # Level 2 comes 14 days after the reminder, not earlier, and not twice the same day.
    assert held(org, invoice, TODAY) == HoldReason.DUNNED_TODAY
    assert held(org, invoice, TODAY + dt.timedelta(days=13)) == HoldReason.WAITING
    [entry] = proposal(org, TODAY + dt.timedelta(days=14)).payers
    assert entry.items[0].level == 2 and entry.level.position == 2
    approve(org, billing_user, [payer], today=TODAY + dt.timedelta(days=14))
    approve(org, billing_user, [payer], today=TODAY + dt.timedelta(days=28))
    assert list(DunningNotice.objects.filter(invoice=invoice).values_list("level", flat=True)) == [1, 2, 3]
    assert held(org, invoice, TODAY + dt.timedelta(days=60)) == HoldReason.LAST_LEVEL


def test_a_level_switched_off_is_skipped(org, payer, billing_user):
    invoice = issued_invoice(org, payer, issue_date=ISSUED)
    services.dunning_levels_save(organization=org, user=billing_user, values={1: {"enabled": False}})
    [entry] = proposal(org).payers
    assert entry.items[0].level == 2
    approve(org, billing_user, [payer])
    assert DunningNotice.objects.get(invoice=invoice).level == 2


def test_the_letter_takes_the_highest_level_of_its_invoices(org, payer, billing_user):
    old = issued_invoice(org, payer, issue_date=ISSUED)
    approve(org, billing_user, [payer], today=TODAY)
    new = issued_invoice(org, payer, "238.00", issue_date=dt.date(2026, 11, 20))  # due 04.12.
    later = TODAY + dt.timedelta(days=14)
    [entry] = proposal(org, later).payers
    assert {(i.invoice.number, i.level) for i in entry.items} == {(old.number, 2), (new.number, 1)}
    assert entry.level.position == 2 and entry.fee == D("2.50")


def test_levels_are_created_with_defaults_on_first_use(org):
    assert not DunningLevel.objects.filter(organization=org).exists()
    levels = services.dunning_levels_ensure(organization=org)
    assert [lv.position for lv in levels] == [1, 2, 3]
    assert [lv.fee for lv in levels] == [D("0.00"), D("2.50"), D("5.00")]
    assert services.dunning_levels_ensure(organization=org) == levels


def test_a_letter_text_with_an_unknown_placeholder_is_refused(org, billing_user):
    with pytest.raises(ValidationError, match="betrag"):
        services.dunning_levels_save(
            organization=org, user=billing_user, values={1: {"text_de": "Bitte {betrag}"}}
        )
    assert selectors.dunning_levels(org)[0].text_de.startswith("sicher")


# --- approving: letters, fees, numbers ----------------------------------------------------


def test_approving_issues_a_numbered_frozen_letter_and_books_the_fee_as_its_own_receivable(
    org, payer, billing_user
):
    invoice = issued_invoice(org, payer, issue_date=ISSUED)
    approve(org, billing_user, [payer])
    result = approve(org, billing_user, [payer], today=TODAY + dt.timedelta(days=14))
    [letter] = result.letters
    document = letter.document
    assert document.kind == DocumentKind.DUNNING_LETTER and document.status != DocumentStatus.DRAFT
    assert document.number == f"MA-2026-{2:05}"
    assert document.dunning_level == 2
    assert document.total_gross == D("121.50") and document.total_tax == 0
    fee = letter.fee
    assert fee.kind == ChargeKind.DUNNING_FEE and fee.amount == D("2.50") and fee.document == document
    # The invoice is untouched: the fee is a receivable beside it.
    assert ledger.open_amount(invoice) == D("119.00")
    items = {i.number: i.open for i in ledger.open_items(today=TODAY, payer=payer)}
    assert items[invoice.number] == D("119.00") and items[fee.text] == D("2.50")
    assert ledger.customer_balance(payer, today=TODAY) == D("121.50")


def test_an_unpaid_earlier_fee_is_listed_on_the_next_letter_but_not_charged_twice(org, payer, billing_user):
    issued_invoice(org, payer, issue_date=ISSUED)
    services.dunning_levels_save(organization=org, user=billing_user, values={1: {"fee": D("1.00")}})
    approve(org, billing_user, [payer])
    result = approve(org, billing_user, [payer], today=TODAY + dt.timedelta(days=14))
    lines = list(result.letters[0].document.lines.values_list("description", "net"))
    assert [net for _d, net in lines] == [D("119.00"), D("1.00"), D("2.50")]
    assert Charge.objects.filter(kind=ChargeKind.DUNNING_FEE).count() == 2


def test_a_payment_of_the_fee_pays_the_fee_not_the_invoice(org, payer, billing_user):
    invoice = issued_invoice(org, payer, issue_date=ISSUED)
    services.dunning_levels_save(organization=org, user=billing_user, values={1: {"fee": D("5.00")}})
    [letter] = approve(org, billing_user, [payer]).letters
    pay(org, billing_user, payer, "5.00", letter.fee)
    assert ledger.open_amount(invoice) == D("119.00")
    assert ledger.charge_open_amounts([letter.fee])[letter.fee.pk] == 0


def test_letter_numbers_are_gap_free_even_when_a_payer_is_refused(org, billing_user):
    good = [CustomerFactory(organization=org, name=f"Kunde {n}") for n in range(3)]
    homeless = CustomerFactory(organization=org, name="Ohne Adresse", street="", postal_code="", city="")
    for customer in [*good, homeless]:
        issued_invoice(org, customer, issue_date=ISSUED)
    result = approve(org, billing_user, [*good, homeless])
    assert [name for name, _why in result.skipped] == ["Ohne Adresse"]
    numbers = sorted(
        Document.objects.filter(kind=DocumentKind.DUNNING_LETTER).values_list("number", flat=True)
    )
    assert numbers == ["MA-2026-00001", "MA-2026-00002", "MA-2026-00003"]
    assert result.run.letters == 3


def test_the_letter_goes_by_email_with_its_pdf_to_an_email_customer(org, payer, billing_user, run_on_commit):
    payer.invoice_email = "buchhaltung@schulz.de"
    payer.save()
    issued_invoice(org, payer, issue_date=ISSUED)
    result = approve(org, billing_user, [payer], run_on_commit=run_on_commit)
    [letter] = result.letters
    assert letter.delivery == LetterDelivery.EMAIL
    [message] = mail.outbox
    assert message.to == ["buchhaltung@schulz.de"]
    assert message.subject.startswith(f"Zahlungserinnerung {letter.document.number}")
    assert message.attachments[0][2] == "application/pdf"
    letter.document.refresh_from_db()
    assert letter.document.status == DocumentStatus.SENT


def test_a_post_customer_letter_is_marked_for_printing_and_not_mailed(
    org, payer, billing_user, run_on_commit
):
    payer.delivery_method = "post"
    payer.save()
    issued_invoice(org, payer, issue_date=ISSUED)
    [letter] = approve(org, billing_user, [payer], run_on_commit=run_on_commit).letters
    assert letter.delivery == LetterDelivery.POST and mail.outbox == []
    assert list(selectors.letters_to_print()) == [letter]
    # It waits in the one list to print, with the invoices by post; printing sends it.
    [row] = letter.document.dispatches.all()
    assert (row.channel, row.status) == ("post", "queued")
    content, count = post_print(organization=org, user=billing_user, dispatch_ids=[row.pk])
    assert count == 1 and len(PdfReader(io.BytesIO(content)).pages) >= 1
    assert letter.document.number in "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(content)).pages
    )
    assert list(selectors.letters_to_print()) == []
    letter.document.refresh_from_db()
    assert letter.document.sent_at is not None


def test_the_letter_pdf_lists_the_open_invoices_the_fee_and_the_total(
    org, payer, billing_user, run_on_commit
):
    first = issued_invoice(org, payer, "119.00", issue_date=ISSUED)
    second = issued_invoice(org, payer, "1190.00", issue_date=dt.date(2026, 11, 5))
    pay(org, billing_user, payer, "190.00", second)
    services.dunning_levels_save(organization=org, user=billing_user, values={1: {"fee": D("2.50")}})
    [letter] = approve(org, billing_user, [payer], run_on_commit=run_on_commit).letters
    document = Document.objects.get(pk=letter.document.pk)
    assert document.pdf and document.pdf_sha256
    with document.pdf.open("rb") as handle:
        data = handle.read()
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = "\n".join(page.extract_text() for page in pdf.pages)
    lines = text.splitlines()
    assert f"Zahlungserinnerung Nr. {document.number}" in text
    assert "Bäckerei Schulz GmbH" in text
    assert "Zahlbar bis 11.12.2026" in text
    # One row per open invoice: number, date, due date, what is still open.
    assert f"{first.number} 02.11.2026 16.11.2026 119,00 €" in lines
    assert f"{second.number} 05.11.2026 19.11.2026 1.000,00 €" in lines
    assert "Mahngebühr 2,50 €" in lines
    assert "Gesamtbetrag 1.121,50 €" in text
    # No VAT on a dunning letter.
    assert "USt auf" not in text


def test_an_english_customer_gets_an_english_letter(org, billing_user, run_on_commit):
    payer = CustomerFactory(organization=org, name="Harbour Ltd", language="en")
    issued_invoice(org, payer, issue_date=ISSUED)
    [letter] = approve(org, billing_user, [payer], run_on_commit=run_on_commit).letters
    document = Document.objects.get(pk=letter.document.pk)
    with document.pdf.open("rb") as handle, pdfplumber.open(io.BytesIO(handle.read())) as pdf:
        text = "\n".join(page.extract_text() for page in pdf.pages)
    assert f"Payment reminder No. {document.number}" in text
    assert "you have probably overlooked it" in text
    assert mail.outbox[0].subject.startswith(f"Payment reminder {document.number}")


def test_another_organizations_invoices_are_never_in_the_proposal(org, other_org, payer):
    stranger = CustomerFactory(organization=other_org)
    issued_invoice(other_org, stranger, issue_date=ISSUED)
    issued_invoice(org, payer, issue_date=ISSUED)
    assert [p.payer for p in proposal(org).payers] == [payer]
    assert [p.payer for p in proposal(other_org).payers] == [stranger]


def test_a_letter_cannot_be_changed_after_issuing(org, payer, billing_user):
    from documents.models import DocumentFrozenError

    issued_invoice(org, payer, issue_date=ISSUED)
    [letter] = approve(org, billing_user, [payer]).letters
    document = letter.document
    document.total_gross = D("1.00")
    with pytest.raises(DocumentFrozenError):
        document.save()
    with pytest.raises(DocumentFrozenError):
        Document.objects.get(pk=document.pk).delete()
    assert DunningLetter.objects.count() == 1
