"""Bank statements: CAMT files read, matched to invoices, returns booked, nothing twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from lxml import etree

from demo.camt_sample import SampleEntry, camt_xml
from documents.models import Document
from organizations.models import AuditEntry
from payments import camt, selectors, services, statements
from payments.mandates import payment_settings_for
from payments.models import (
    BankStatement,
    BatchStatus,
    Charge,
    ChargeKind,
    DirectDebitBatch,
    DirectDebitItem,
    EntryStatus,
    ItemStatus,
    Payment,
    PaymentChannel,
    PaymentMailSettings,
    StatementEntry,
)
from tests.customers.factories import CustomerFactory
from tests.payments.factories import issued_invoice, pay

D = Decimal
TODAY = dt.date(2026, 12, 2)
ACCOUNT = "DE02120300000000202051"
VERSIONS = ["camt.053.001.02", "camt.053.001.08", "camt.054.001.02", "camt.054.001.08"]


@pytest.fixture
def payer(org):
    return CustomerFactory(
        organization=org,
        name="Bäckerei Schulz GmbH",
        iban="DE89370400440532013000",
        email="buchhaltung@schulz.de",
    )


def _import(org, user, entries, *, version="camt.053.001.02", statement_id="STMT-1", name="auszug.xml"):
    data = camt_xml(entries, account_iban=ACCOUNT, version=version, statement_id=statement_id)
    return statements.statement_import(organization=org, data=data, file_name=name, user=user, today=TODAY)


@pytest.mark.parametrize("version", VERSIONS)
def test_it_writes_sample_files_the_iso_schema_accepts_and_reads_them_back(version, camt_schema):
    entries = [
        SampleEntry(
            D("119.00"),
            remittance="RE-2026-00001",
            name="Schulz",
            iban="DE89370400440532013000",
            bank_reference="A1",
        ),
        SampleEntry(
            D("50.00"), credit=False, end_to_end_id="RE-2026-00002", return_reason="MD06", bank_reference="A2"
        ),
        SampleEntry(
            D("30.00"),
            bank_reference="A3",
            batch=(
                SampleEntry(D("10.00"), end_to_end_id="RE-2026-00003", bank_reference="A3-1"),
                SampleEntry(D("20.00"), end_to_end_id="RE-2026-00004", bank_reference="A3-2"),
            ),
        ),
    ]
    data = camt_xml(entries, account_iban=ACCOUNT, version=version)
    camt_schema(version).validate(etree.fromstring(data))
    message = camt.parse(data)
    assert message.message_type == version
    assert message.account_iban == ACCOUNT
    assert [(e.amount, e.end_to_end_id, e.return_reason) for e in message.entries] == [
        (D("119.00"), "", ""),
        (D("-50.00"), "RE-2026-00002", "MD06"),
        (D("10.00"), "RE-2026-00003", ""),
        (D("20.00"), "RE-2026-00004", ""),
    ]
    assert message.entries[0].remittance == "RE-2026-00001"
    assert message.entries[0].counterparty_iban == "DE89370400440532013000"
    assert len({e.key for e in message.entries}) == 4


def test_it_reads_a_file_whatever_the_namespace_prefix():
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<c:Document xmlns:c="urn:iso:std:iso:20022:tech:xsd:camt.054.001.04"><c:BkToCstmrDbtCdtNtfctn>
<c:GrpHdr><c:MsgId>M1</c:MsgId></c:GrpHdr><c:Ntfctn><c:Id>N1</c:Id>
<c:Acct><c:Id><c:IBAN>DE02120300000000202051</c:IBAN></c:Id></c:Acct>
<c:Ntry><c:Amt Ccy="EUR">5.00</c:Amt><c:CdtDbtInd>CRDT</c:CdtDbtInd><c:Sts>BOOK</c:Sts>
<c:BookgDt><c:Dt>2026-12-01</c:Dt></c:BookgDt><c:AcctSvcrRef>Z9</c:AcctSvcrRef>
<c:NtryDtls><c:TxDtls><c:RmtInf><c:Ustrd>RE-1</c:Ustrd></c:RmtInf></c:TxDtls></c:NtryDtls></c:Ntry>
<c:Ntry><c:Amt Ccy="EUR">9.00</c:Amt><c:CdtDbtInd>CRDT</c:CdtDbtInd><c:Sts>PDNG</c:Sts>
<c:BookgDt><c:Dt>2026-12-01</c:Dt></c:BookgDt></c:Ntry>
</c:Ntfctn></c:BkToCstmrDbtCdtNtfctn></c:Document>"""
    message = camt.parse(data)
    assert message.message_type == "camt.054.001.04"
    # The pending entry is left out: it comes again once booked.
    [entry] = message.entries
    assert (entry.amount, entry.remittance, entry.key) == (D("5.00"), "RE-1", f"camt:{ACCOUNT}:Z9")


@pytest.mark.parametrize(
    "data",
    [b"not xml", b"<Document/>", b'<?xml version="1.0"?><Document xmlns="urn:x"><Foo/></Document>'],
)
def test_a_file_that_is_no_statement_is_refused_and_changes_nothing(org, billing_user, data):
    with pytest.raises(ValidationError):
        statements.statement_import(
            organization=org, data=data, file_name="x.xml", user=billing_user, today=TODAY
        )
    assert not BankStatement.objects.exists()


def test_a_credit_naming_the_invoice_with_its_amount_pays_it_and_mails_the_payer(
    org, billing_user, payer, django_capture_on_commit_callbacks
):
    invoice = issued_invoice(org, payer, "119.00")
    with django_capture_on_commit_callbacks(execute=True):
        result = _import(
            org,
            billing_user,
            [SampleEntry(D("119.00"), remittance=f"Rechnung {invoice.number} Danke", bank_reference="R1")],
        )
    assert result.created and result.counts == {EntryStatus.MATCHED: 1}
    assert selectors.open_amount(invoice) == 0
    [entry] = StatementEntry.objects.all()
    assert entry.payment.amount == D("119.00") and entry.payment.source_key == entry.source_key
    [message] = mail.outbox
    assert message.to == ["buchhaltung@schulz.de"]
    assert invoice.number in message.body and "119,00" in message.body


def test_the_same_file_imported_twice_changes_nothing(org, billing_user, payer):
    invoice = issued_invoice(org, payer, "119.00")
    entries = [
        SampleEntry(D("119.00"), remittance=invoice.number, bank_reference="R1"),
        SampleEntry(D("7.00")),
    ]
    first = _import(org, billing_user, entries)
    second = _import(org, billing_user, entries)
    assert first.created and not second.created and second.statement == first.statement
    assert Payment.objects.count() == 1 and StatementEntry.objects.count() == 2
    assert BankStatement.objects.count() == 1


def test_an_entry_in_a_notification_and_then_in_the_statement_is_booked_once(org, billing_user, payer):
    invoice = issued_invoice(org, payer, "119.00")
    entry = SampleEntry(D("119.00"), remittance=invoice.number, bank_reference="BANKREF-77")
    _import(org, billing_user, [entry], version="camt.054.001.08", statement_id="N-1")
    later = _import(
        org, billing_user, [entry, SampleEntry(D("1.00"), bank_reference="BANKREF-78")], statement_id="S-1"
    )
    assert later.created and later.known == 1
    assert Payment.objects.filter(amount=D("119.00")).count() == 1
    assert later.statement.entries.count() == 1


def test_several_invoices_in_one_transfer_are_paid_when_the_sum_fits(org, billing_user, payer):
    a = issued_invoice(org, payer, "100.00")
    b = issued_invoice(org, payer, "19.00")
    _import(org, billing_user, [SampleEntry(D("119.00"), remittance=f"{a.number}, {b.number}")])
    assert selectors.open_amount(a) == 0 and selectors.open_amount(b) == 0


def test_a_number_broken_by_the_bank_is_still_found(org, billing_user, payer):
    invoice = issued_invoice(org, payer, "50.00", number="RE-2026-00417")
    _import(org, billing_user, [SampleEntry(D("50.00"), remittance="RE 2026 00417")])
    assert selectors.open_amount(invoice) == 0


def test_less_than_the_named_invoice_is_booked_as_a_partial_payment(org, billing_user, payer):
    invoice = issued_invoice(org, payer, "119.00")
    _import(org, billing_user, [SampleEntry(D("19.00"), remittance=invoice.number)])
    assert selectors.invoice_balance(invoice, today=TODAY).open == D("100.00")
    assert StatementEntry.objects.get().status == EntryStatus.MATCHED


def test_more_than_is_open_waits_for_review_with_the_invoice_as_candidate(org, billing_user, payer):
    invoice = issued_invoice(org, payer, "119.00")
    _import(org, billing_user, [SampleEntry(D("150.00"), remittance=invoice.number)])
    entry = StatementEntry.objects.get()
    assert entry.status == EntryStatus.AMBIGUOUS and entry.candidates == [invoice.pk]
    assert entry.payer == payer and not Payment.objects.exists()


def test_invoices_of_two_payers_in_one_text_wait_for_review(org, billing_user, payer):
    other = CustomerFactory(organization=org)
    a = issued_invoice(org, payer, "10.00")
    b = issued_invoice(org, other, "10.00")
    _import(org, billing_user, [SampleEntry(D("20.00"), remittance=f"{a.number} {b.number}")])
    assert StatementEntry.objects.get().status == EntryStatus.AMBIGUOUS
    assert not Payment.objects.exists()


def test_a_known_iban_and_one_invoice_with_that_amount_is_a_match(org, billing_user, payer):
    issued_invoice(org, payer, "50.00")
    invoice = issued_invoice(org, payer, "75.00")
    _import(org, billing_user, [SampleEntry(D("75.00"), remittance="Miete Dezember", iban=payer.iban)])
    assert selectors.open_amount(invoice) == 0


def test_a_known_iban_with_two_invoices_of_that_amount_waits_for_review(org, billing_user, payer):
    issued_invoice(org, payer, "75.00")
    issued_invoice(org, payer, "75.00")
    _import(org, billing_user, [SampleEntry(D("75.00"), iban=payer.iban)])
    entry = StatementEntry.objects.get()
    assert entry.status == EntryStatus.AMBIGUOUS and len(entry.candidates) == 2


def test_two_entries_for_one_invoice_do_not_both_pay_it(org, billing_user, payer):
    invoice = issued_invoice(org, payer, "119.00")
    _import(
        org,
        billing_user,
        [
            SampleEntry(D("119.00"), remittance=invoice.number),
            SampleEntry(D("119.00"), remittance=invoice.number),
        ],
    )
    assert [e.status for e in StatementEntry.objects.order_by("position")] == [
        EntryStatus.MATCHED,
        EntryStatus.AMBIGUOUS,
    ]
    assert selectors.open_amount(invoice) == 0


def test_a_reviewed_entry_is_assigned_by_hand_or_left_as_credit(org, billing_user, payer):
    invoice = issued_invoice(org, payer, "119.00")
    _import(org, billing_user, [SampleEntry(D("80.00"), remittance="Zahlung"), SampleEntry(D("20.00"))])
    first, second = StatementEntry.objects.order_by("position")
    assert first.status == second.status == EntryStatus.UNMATCHED
    statements.entry_assign(
        organization=org, entry=first, payer=payer, allocations=[(invoice, D("80.00"))], user=billing_user
    )
    statements.entry_assign(organization=org, entry=second, payer=payer, allocations=[], user=billing_user)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == EntryStatus.MATCHED and second.status == EntryStatus.UNAPPLIED
    assert selectors.open_amount(invoice) == D("39.00")
    assert selectors.customer_credit(payer) == D("20.00")
    with pytest.raises(ValidationError):
        statements.entry_assign(
            organization=org, entry=second, payer=payer, allocations=[], user=billing_user
        )
    assert Payment.objects.count() == 2


def _collected(org, invoice, *, status=ItemStatus.SETTLED):
    batch = DirectDebitBatch.objects.create(
        organization=org, collection_date=dt.date(2026, 11, 20), status=BatchStatus.SETTLED
    )
    return DirectDebitItem.objects.create(
        organization=org,
        batch=batch,
        document=invoice,
        payer=invoice.payer,
        amount=invoice.total_gross,
        end_to_end_id=invoice.number,
        sequence_type="RCUR",
        status=status,
    )


def test_a_returned_direct_debit_reopens_its_invoice_with_the_reason(org, billing_user, payer):
    settings = payment_settings_for(org)
    settings.return_fee = D("3.50")
    settings.save()
    invoice = issued_invoice(org, payer, "119.00")
    pay(
        org,
        billing_user,
        payer,
        "119.00",
        invoice,
        date=dt.date(2026, 11, 20),
        channel=PaymentChannel.DIRECT_DEBIT,
    )
    item = _collected(org, invoice)
    result = _import(
        org,
        billing_user,
        [
            SampleEntry(
                D("119.00"),
                credit=False,
                end_to_end_id=invoice.number,
                return_reason="AC04",
                bank_reference="RT1",
            )
        ],
        version="camt.053.001.08",
    )
    assert result.counts == {EntryStatus.RETURNED: 1}
    assert selectors.open_amount(invoice) == D("119.00")
    item.refresh_from_db()
    assert item.status == ItemStatus.RETURNED and item.return_reason == "AC04"
    assert Payment.objects.get(kind="return").reference == "AC04"
    [fee] = Charge.objects.filter(payer=payer)
    assert fee.kind == ChargeKind.RETURN_FEE and fee.amount == D("3.50") and fee.document == invoice


def test_a_return_of_a_collection_not_yet_settled_ends_it_without_booking(org, billing_user, payer):
    invoice = issued_invoice(org, payer, "119.00")
    item = _collected(org, invoice, status=ItemStatus.PENDING)
    _import(
        org,
        billing_user,
        [SampleEntry(D("119.00"), credit=False, end_to_end_id=invoice.number, return_reason="MD06")],
    )
    item.refresh_from_db()
    assert item.status == ItemStatus.RETURNED
    assert not Payment.objects.exists()
    assert selectors.invoice_balance(invoice, today=TODAY).state != selectors.InvoiceState.COLLECTION_PENDING


def test_a_settled_collection_on_the_statement_pays_its_invoices(org, billing_user, payer):
    a = issued_invoice(org, payer, "10.00")
    b = issued_invoice(org, payer, "20.00")
    items = [_collected(org, a, status=ItemStatus.PENDING), _collected(org, b, status=ItemStatus.PENDING)]
    batch = SampleEntry(
        D("30.00"),
        bank_reference="DD-1",
        batch=(
            SampleEntry(D("10.00"), end_to_end_id=a.number),
            SampleEntry(D("20.00"), end_to_end_id=b.number),
        ),
    )
    _import(org, billing_user, [batch])
    assert selectors.open_amount(a) == selectors.open_amount(b) == 0
    assert {p.channel for p in Payment.objects.all()} == {PaymentChannel.DIRECT_DEBIT}
    for item in items:
        item.refresh_from_db()
        assert item.status == ItemStatus.SETTLED and item.payment is not None


def test_other_debits_are_shown_but_not_booked(org, billing_user, payer):
    _import(org, billing_user, [SampleEntry(D("12.00"), credit=False, remittance="Kontofuehrung")])
    assert StatementEntry.objects.get().status == EntryStatus.IGNORED
    assert not Payment.objects.exists()


def test_the_payment_mail_can_be_switched_off_and_uses_the_template(
    org, billing_user, payer, django_capture_on_commit_callbacks
):
    invoice = issued_invoice(org, payer, "119.00")
    services.payment_mail_settings_update(
        organization=org,
        user=billing_user,
        enabled=True,
        subject="Danke {payer}",
        body="{amount} für {number}, offen {open}",
    )
    with django_capture_on_commit_callbacks(execute=True):
        _import(org, billing_user, [SampleEntry(D("19.00"), remittance=invoice.number)])
    [message] = mail.outbox
    assert message.subject == "Danke Bäckerei Schulz GmbH"
    assert message.body == f"19,00 € für {invoice.number}, offen 100,00 €"
    PaymentMailSettings.objects.filter(organization=org).update(enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        _import(org, billing_user, [SampleEntry(D("10.00"), remittance=invoice.number)], statement_id="S2")
    assert len(mail.outbox) == 1


def test_an_unknown_placeholder_is_refused(org, billing_user):
    with pytest.raises(ValidationError):
        services.payment_mail_settings_update(
            organization=org, user=billing_user, enabled=True, subject="{betrag}", body=""
        )
    assert not PaymentMailSettings.objects.exists()


def _ledger_of(org):
    from django_scopes import scope

    with scope(organization=org):
        entries = [
            (
                e.position,
                e.status,
                e.note,
                e.payer.number if e.payer else None,
                e.candidates
                and sorted(Document.objects.filter(pk__in=e.candidates).values_list("number", flat=True)),
                e.payment
                and (
                    e.payment.kind,
                    e.payment.channel,
                    e.payment.amount,
                    e.payment.date,
                    e.payment.reference,
                    e.payment.source_key,
                    sorted((a.document.number, a.amount, a.date) for a in e.payment.allocations.all()),
                ),
            )
            for e in StatementEntry.objects.filter(organization=org).order_by("position")
        ]
        audit = sorted(
            (a.action, a.object_label, str(sorted(a.data.items())))
            for a in AuditEntry.objects.filter(organization=org, action__startswith="payment.")
        )
        return entries, audit


def test_the_bulk_booking_books_exactly_what_the_plain_path_books(org, other_org, billing_user):
    """Field by field: a statement booked in bulk and one booked payment by payment."""
    files = []
    for target in (org, other_org):
        payer = CustomerFactory(
            organization=target, number="K1", name="Schulz", iban="DE89370400440532013000"
        )
        second = CustomerFactory(organization=target, number="K2", name="Adler")
        invoices = [
            issued_invoice(target, payer, "119.00", number="RE-2026-0001"),
            issued_invoice(target, payer, "75.00", number="RE-2026-0002"),
            issued_invoice(target, second, "50.00", number="RE-2026-0003"),
            issued_invoice(target, second, "20.00", number="RE-2026-0004"),
            issued_invoice(target, payer, "33.00", number="RE-2026-0005"),
        ]
        pay(
            target,
            billing_user,
            payer,
            "33.00",
            invoices[4],
            date=dt.date(2026, 11, 20),
            channel=PaymentChannel.DIRECT_DEBIT,
        )
        files.append(target)
    entries = [
        SampleEntry(D("119.00"), remittance="RE-2026-0001", bank_reference="E1"),
        SampleEntry(D("75.00"), iban="DE89370400440532013000", bank_reference="E2"),
        SampleEntry(D("70.00"), remittance="RE-2026-0003 RE-2026-0004", bank_reference="E3"),
        SampleEntry(D("10.00"), remittance="RE-2026-0001", bank_reference="E4"),
        SampleEntry(D("5.00"), remittance="RE-2026-0003", bank_reference="E5"),
        SampleEntry(D("9.99"), bank_reference="E6"),
        SampleEntry(
            D("33.00"), credit=False, end_to_end_id="RE-2026-0005", return_reason="AC04", bank_reference="E7"
        ),
        SampleEntry(D("1.00"), credit=False, bank_reference="E8"),
    ]
    data = camt_xml(entries, account_iban=ACCOUNT)
    for target, bulk in ((org, True), (other_org, False)):
        from django_scopes import scope

        with scope(organization=target):
            statements.statement_import(
                organization=target, data=data, file_name="a.xml", user=billing_user, today=TODAY, bulk=bulk
            )
    bulk_ledger, plain_ledger = _ledger_of(org), _ledger_of(other_org)
    assert bulk_ledger == plain_ledger
    statuses = [row[1] for row in bulk_ledger[0]]
    assert statuses.count(EntryStatus.MATCHED) == 3 and EntryStatus.RETURNED in statuses


def test_the_demo_statement_is_valid_and_imports_as_described(org, billing_user, payer, camt_schema):
    import random

    from demo.payments_ledger import open_invoices, statement_for

    for _ in range(4):
        issued_invoice(org, payer, "119.00")
    data = statement_for(org, open_invoices(org), rng=random.Random(1), today=TODAY, statement_id="DEMO-1")
    camt_schema("camt.053.001.08").validate(etree.fromstring(data))
    result = statements.statement_import(
        organization=org, data=data, file_name="demo.xml", user=billing_user, today=TODAY
    )
    assert result.counts == {
        EntryStatus.MATCHED: 3,  # they name their invoice (one pays part)
        # Without a number: the payer is known by the IBAN, but four invoices have the amount.
        EntryStatus.AMBIGUOUS: 1,
        EntryStatus.UNMATCHED: 1,
        EntryStatus.IGNORED: 1,
    }


def test_a_bulk_receipt_that_breaks_a_rule_is_not_booked_and_says_why(org, billing_user, payer):
    invoice = issued_invoice(org, payer, "100.00")
    receipt = services.Receipt(
        payer=payer, amount=D("60.00"), date=TODAY, channel="transfer", allocations=((invoice, D("60.00")),)
    )
    too_much = services.Receipt(
        payer=payer, amount=D("60.00"), date=TODAY, channel="transfer", allocations=((invoice, D("60.00")),)
    )
    foreign = services.Receipt(
        payer=CustomerFactory(organization=org),
        amount=D("1.00"),
        date=TODAY,
        channel="transfer",
        allocations=((invoice, D("1.00")),),
    )
    first, second, third = services.payments_record_many(
        organization=org, receipts=[receipt, too_much, foreign], user=billing_user
    )
    assert isinstance(first, Payment) and first.pk
    assert isinstance(second, ValidationError) and isinstance(third, ValidationError)
    assert selectors.open_amount(invoice) == D("40.00")
    assert Payment.objects.count() == 1
