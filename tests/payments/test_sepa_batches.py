"""Direct-debit batches: the pain.008 file against the XSD and the invoices, the
refusals, sequence types and amendments, and what submit, settle, return and cancel do."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from payments import batches, mandates, selectors, sepa_xml
from payments.models import (
    BatchStatus,
    Charge,
    DirectDebitBatch,
    DirectDebitItem,
    ItemStatus,
    MandateStatus,
)
from tests.customers.factories import CustomerFactory
from tests.payments.factories import issued_credit_note, issued_invoice, pay
from tests.payments.sepa_helpers import COLLECT, IBANS, TODAY, dd_invoice, dd_payer, read_pain008

D = Decimal


@pytest.fixture(autouse=True)
def _english(_default_language):
    """The refusals are asserted by their English msgids."""
    from django.utils import translation

    with translation.override("en"):
        yield


def _create(org, user, invoices, *, date=COLLECT):
    return batches.batch_create(
        organization=org, collection_date=date, invoice_ids=[i.pk for i in invoices], user=user, today=TODAY
    )


def _file(batch) -> bytes:
    batch.file.open("rb")
    try:
        return batch.file.read()
    finally:
        batch.file.close()


def test_it_builds_a_valid_pain008_with_one_transaction_per_invoice(org, billing_user):
    schulz, m1 = dd_payer(org, name="Bäckerei Schulz & Söhne GmbH", iban=IBANS[0])
    meier, m2 = dd_payer(org, name="Meier Logistik AG", iban=IBANS[1], scheme="B2B")
    a = dd_invoice(org, schulz, "119.00")
    b = dd_invoice(org, schulz, "47.60")
    c = dd_invoice(org, meier, "1190.50")
    issued_invoice(org, CustomerFactory(organization=org), "99.00")  # pays by transfer
    core, b2b = batches.batches_create(
        organization=org,
        collection_date=COLLECT,
        invoice_ids=[a.pk, b.pk, c.pk],
        user=billing_user,
        today=TODAY,
    )

    # One scheme per batch and file (the banks take B2B in files of their own); in each
    # file one block per sequence type: Schulz FRST + RCUR (core), Meier FRST (B2B).
    files = {batch.scheme: read_pain008(_file(batch)) for batch in (core, b2b)}
    assert (core.scheme, b2b.scheme) == ("CORE", "B2B")
    assert (files["CORE"]["count"], files["B2B"]["count"]) == (2, 1) == (core.count, b2b.count)
    assert files["CORE"]["sum"] == D("166.60") == core.total
    assert files["B2B"]["sum"] == D("1190.50") == b2b.total
    assert files["CORE"]["message_id"] == core.message_id and files["B2B"]["message_id"] == b2b.message_id
    kinds = {
        scheme: sorted((b["scheme"], b["sequence"], b["count"]) for b in f["blocks"])
        for scheme, f in files.items()
    }
    assert kinds == {"CORE": [("CORE", "FRST", 1), ("CORE", "RCUR", 1)], "B2B": [("B2B", "FRST", 1)]}
    parsed = {
        "blocks": [b for f in files.values() for b in f["blocks"]],
        "txs": [t for f in files.values() for t in f["txs"]],
    }
    for block in parsed["blocks"]:
        assert block["sum"] == sum(t["amount"] for t in block["txs"])
        assert block["creditor_id"] == org.creditor_id
        assert block["creditor_iban"] == org.iban
        assert block["date"] == COLLECT.isoformat()
    by_id = {t["e2e"]: t for t in parsed["txs"]}
    for invoice, mandate in ((a, m1), (b, m1), (c, m2)):
        tx = by_id[invoice.number]
        assert tx["amount"] == invoice.total_gross
        assert tx["mandate"] == mandate.reference
        assert tx["signed"] == mandate.signed_on.isoformat()
        assert tx["iban"] == mandate.iban
        assert tx["text"] == f"Rechnung {invoice.number} vom {invoice.issue_date:%d.%m.%Y}"
    assert by_id[a.number]["name"] == "Baeckerei Schulz + Soehne GmbH"
    assert selectors.invoice_balance(a, today=TODAY).state == selectors.InvoiceState.COLLECTION_PENDING


def test_a_batch_holds_one_scheme_and_a_file_with_two_is_refused(org, billing_user):
    core_payer, _m1 = dd_payer(org, iban=IBANS[0])
    b2b_payer, _m2 = dd_payer(org, name="Meier Logistik AG", iban=IBANS[1], scheme="B2B")
    a = dd_invoice(org, core_payer, "10.00")
    b = dd_invoice(org, b2b_payer, "20.00")
    with pytest.raises(ValidationError) as exc:
        _create(org, billing_user, [a, b])
    assert exc.value.code == "schemes"
    assert not DirectDebitBatch.objects.exists()
    collections = [
        sepa_xml.Collection(
            end_to_end_id=f"E-{scheme}",
            amount=D("10.00"),
            scheme=scheme,
            sequence_type="FRST",
            mandate_reference=f"M-{scheme}",
            mandate_signed_on=dt.date(2026, 1, 15),
            debtor_name="Schulz GmbH",
            iban=IBANS[0],
            bic="",
            remittance="Rechnung",
        )
        for scheme in ("CORE", "B2B")
    ]
    creditor = sepa_xml.Creditor(name=org.name, iban=org.iban, bic=org.bic, creditor_id=org.creditor_id)
    with pytest.raises(sepa_xml.SepaFileError) as refused:
        sepa_xml.build(creditor=creditor, collection_date=COLLECT, message_id="M1", collections=collections)
    assert refused.value.problems == ["one scheme (CORE or B2B) per file"]


def test_it_collects_only_the_open_rest_and_skips_paid_and_credited_invoices(org, billing_user):
    payer, _m = dd_payer(org)
    partly = dd_invoice(org, payer, "200.00")
    paid = dd_invoice(org, payer, "50.00")
    credited = dd_invoice(org, payer, "80.00")
    pay(org, billing_user, payer, "120.00", (partly, "70.00"), (paid, "50.00"), date=TODAY)
    issued_credit_note(credited, "80.00", cancellation=True)
    found = batches.candidates(organization=org, collection_date=COLLECT)
    assert [(c.invoice, c.amount, c.collectable) for c in found] == [(partly, D("130.00"), True)]


def test_the_folder_mandate_wins_over_the_customer_mandate(org, billing_user):
    from tests.documents.factories import FolderFactory

    payer, customer_mandate = dd_payer(org)
    folder = FolderFactory(organization=org, customer=payer)
    folder_mandate = mandates.mandate_create(
        organization=org,
        customer=payer,
        folder=folder,
        reference="M-FOLDER-1",
        signed_on=dt.date(2026, 2, 1),
        iban=IBANS[2],
        debtor_name="Schulz Filiale",
        user=billing_user,
        today=TODAY,
    )
    own = dd_invoice(org, payer, folder=folder)
    other = dd_invoice(org, payer)
    found = {c.invoice: c.mandate for c in batches.candidates(organization=org, collection_date=COLLECT)}
    assert found == {own: folder_mandate, other: customer_mandate}


@pytest.mark.parametrize(
    "setup, message",
    [
        ("no_mandate", "no active SEPA mandate"),
        ("revoked", "revoked"),
        ("expired", "expired"),
        ("bad_reference", "characters SEPA does not allow"),
        ("bad_iban", "not valid"),
        ("credit", "credit"),
        ("prenotification", "pre-notified"),
    ],
)
def test_an_invoice_that_cannot_be_collected_is_refused_with_its_reason(org, billing_user, setup, message):
    payer, mandate = dd_payer(org)
    if setup == "prenotification":
        invoice = dd_invoice(org, payer, issue_date=COLLECT - dt.timedelta(days=3), due_days=0)
    else:
        invoice = dd_invoice(org, payer)
    if setup == "no_mandate":
        mandate.delete()
    elif setup == "revoked":
        mandates.mandate_revoke(mandate=mandate, user=billing_user, today=TODAY)
    elif setup == "expired":
        mandate.signed_on = dt.date(2023, 1, 2)
        mandate.last_collected_on = dt.date(2023, 11, 1)
        mandate.save()
    elif setup == "bad_reference":
        type(mandate).objects.filter(pk=mandate.pk).update(reference="M-Schulz_ä")
    elif setup == "bad_iban":
        type(mandate).objects.filter(pk=mandate.pk).update(iban="DE00120300000000202051")
    elif setup == "credit":
        pay(org, billing_user, payer, "10.00", date=TODAY, as_credit=True)
    [candidate] = batches.candidates(organization=org, collection_date=COLLECT)
    assert not candidate.collectable and message in candidate.refusal
    with pytest.raises(ValidationError, match=message):
        _create(org, billing_user, [invoice])
    assert not DirectDebitBatch.objects.exists() and not DirectDebitItem.objects.exists()


def test_a_shorter_prenotification_agreed_with_the_debtor_allows_an_earlier_collection(org, billing_user):
    payer, mandate = dd_payer(org)
    invoice = dd_invoice(org, payer, issue_date=COLLECT - dt.timedelta(days=5), due_days=0)
    [candidate] = batches.candidates(organization=org, collection_date=COLLECT)
    assert not candidate.collectable
    mandates.mandate_amend(
        mandate=mandate,
        reference=mandate.reference,
        iban=mandate.iban,
        bic=mandate.bic,
        debtor_name=mandate.debtor_name,
        prenotification_days=5,
        user=billing_user,
        today=TODAY,
    )
    assert _create(org, billing_user, [invoice]).count == 1


@pytest.mark.parametrize(
    "date, message",
    [
        (dt.date(2026, 12, 5), "not a TARGET2 business day"),  # a Saturday
        (dt.date(2026, 12, 25), "not a TARGET2 business day"),  # Christmas
        (dt.date(2026, 12, 1), "too early"),  # tomorrow: under the lead time
    ],
)
def test_a_collection_date_that_is_no_business_day_or_too_early_is_refused(org, billing_user, date, message):
    payer, _m = dd_payer(org)
    invoice = dd_invoice(org, payer)
    with pytest.raises(ValidationError, match=message):
        _create(org, billing_user, [invoice], date=date)
    assert not DirectDebitBatch.objects.exists()


@pytest.mark.parametrize("field", ["iban", "bic", "creditor_id"])
def test_an_organization_without_bank_data_or_creditor_id_gets_no_file(org, billing_user, field):
    payer, _m = dd_payer(org)
    invoice = dd_invoice(org, payer)
    setattr(org, field, "")
    org.save()
    with pytest.raises(ValidationError, match="organization settings"):
        _create(org, billing_user, [invoice])
    assert not DirectDebitBatch.objects.exists()


def test_an_invalid_creditor_id_is_refused(org, billing_user):
    payer, _m = dd_payer(org)
    invoice = dd_invoice(org, payer)
    org.creditor_id = "DE99ZZZ09999999999"
    org.save()
    with pytest.raises(ValidationError, match="not valid"):
        _create(org, billing_user, [invoice])


def test_an_invoice_cannot_go_into_a_second_batch_until_the_first_is_cancelled(org, billing_user):
    payer, _m = dd_payer(org)
    invoice = dd_invoice(org, payer)
    first = _create(org, billing_user, [invoice])
    assert batches.candidates(organization=org, collection_date=COLLECT) == []
    with pytest.raises(ValidationError, match="already in a pending collection"):
        _create(org, billing_user, [invoice])
    batches.batch_cancel(batch=first, user=billing_user)
    assert first.items.get().status == ItemStatus.CANCELLED
    assert _create(org, billing_user, [invoice]).count == 1


def test_submitting_uses_the_mandate_and_reports_an_amendment_once(org, billing_user):
    payer, mandate = dd_payer(org, iban=IBANS[1])
    first = _create(org, billing_user, [dd_invoice(org, payer)])
    batches.batch_submit(batch=first, user=billing_user)
    mandate.refresh_from_db()
    assert mandate.last_collected_on == COLLECT
    # The debtor moves the account within the bank and gets a new reference.
    mandates.mandate_amend(
        mandate=mandate,
        reference="M-NEU-1",
        iban=IBANS[3],
        bic="",
        debtor_name=mandate.debtor_name,
        user=billing_user,
        today=TODAY,
    )
    payer.refresh_from_db()
    assert (payer.mandate_reference, payer.iban) == ("M-NEU-1", IBANS[3])
    second_date = dt.date(2027, 1, 11)
    second = batches.batch_create(
        organization=org,
        collection_date=second_date,
        invoice_ids=[dd_invoice(org, payer, issue_date=dt.date(2026, 12, 1)).pk],
        user=billing_user,
        today=TODAY,
    )
    [tx] = read_pain008(_file(second))["txs"]
    assert (tx["amended"], tx["original_mandate"], tx["original_iban"]) == (
        "true",
        mandate.reference,
        IBANS[1],
    )
    assert tx["mandate"] == "M-NEU-1" and tx["iban"] == IBANS[3]
    assert read_pain008(_file(second))["blocks"][0]["sequence"] == "RCUR"
    batches.batch_submit(batch=second, user=billing_user)
    mandate.refresh_from_db()
    assert (mandate.original_reference, mandate.original_iban) == ("", "")


def test_a_move_to_another_bank_is_reported_as_smnda(org, billing_user):
    payer, mandate = dd_payer(org, iban=IBANS[0])
    batches.batch_submit(batch=_create(org, billing_user, [dd_invoice(org, payer)]), user=billing_user)
    mandates.mandate_amend(
        mandate=mandate,
        reference=mandate.reference,
        iban=IBANS[1],
        bic="",
        debtor_name=mandate.debtor_name,
        user=billing_user,
        today=TODAY,
    )
    later = batches.batch_create(
        organization=org,
        collection_date=dt.date(2027, 1, 11),
        invoice_ids=[dd_invoice(org, payer, issue_date=dt.date(2026, 12, 1)).pk],
        user=billing_user,
        today=TODAY,
    )
    [tx] = read_pain008(_file(later))["txs"]
    assert (tx["amended"], tx["original_agent"], tx["original_iban"]) == ("true", "SMNDA", None)


def test_settling_pays_the_invoices_and_a_return_reopens_one_with_the_fee(org, billing_user):
    from payments.mandates import payment_settings_for

    settings = payment_settings_for(org)
    settings.return_fee = D("7.50")
    settings.save()
    payer, _m = dd_payer(org)
    a = dd_invoice(org, payer, "100.00")
    b = dd_invoice(org, payer, "50.00")
    batch = _create(org, billing_user, [a, b])
    with pytest.raises(ValidationError):
        batches.batch_settle(batch=batch, user=billing_user)
    batches.batch_submit(batch=batch, user=billing_user)
    batches.batch_settle(batch=batch, user=billing_user)
    assert batch.items.filter(status=ItemStatus.SETTLED).count() == 2
    assert selectors.open_amount(a) == 0 and selectors.open_amount(b) == 0
    item = batch.items.get(document=a)
    batches.item_return(item=item, reason="AM04", date=dt.date(2026, 12, 9), user=billing_user)
    item.refresh_from_db()
    assert (item.status, item.return_reason) == (ItemStatus.RETURNED, "AM04")
    assert selectors.open_amount(a) == D("100.00")
    fee = Charge.objects.get(payer=payer)
    assert fee.amount == D("7.50") and fee.document == a
    assert selectors.customer_balance(payer, today=dt.date(2026, 12, 9)) == D("107.50")
    with pytest.raises(ValidationError, match="already come back"):
        batches.item_return(item=item, reason="AM04", date=dt.date(2026, 12, 9), user=billing_user)
    # Reopened, the invoice can be collected again.
    assert [
        c.invoice for c in batches.candidates(organization=org, collection_date=dt.date(2026, 12, 14))
    ] == [a]


def test_a_reject_before_settlement_frees_the_invoice_without_booking(org, billing_user):
    payer, _m = dd_payer(org)
    a = dd_invoice(org, payer, "100.00")
    batch = _create(org, billing_user, [a])
    batches.batch_submit(batch=batch, user=billing_user)
    batches.item_return(item=batch.items.get(), reason="AC04", date=COLLECT, user=billing_user)
    batches.batch_settle(batch=batch, user=billing_user)
    assert selectors.open_amount(a) == D("100.00")
    assert selectors.invoice_balance(a, today=TODAY).state != selectors.InvoiceState.COLLECTION_PENDING
    batch.refresh_from_db()
    assert batch.status == BatchStatus.SETTLED


def test_a_mandate_unused_for_36_months_expires(org, billing_user):
    _payer, mandate = dd_payer(org)
    mandate.last_collected_on = dt.date(2023, 6, 1)
    mandate.save()
    assert mandates.mandates_expire(today=dt.date(2026, 5, 31)) == 0
    assert mandates.mandates_expire(today=dt.date(2026, 6, 1)) == 1
    mandate.refresh_from_db()
    assert mandate.status == MandateStatus.EXPIRED


@pytest.mark.parametrize("reference", ["M-1//2", "Mandat Müller", "M_1", "x" * 36])
def test_a_reference_with_characters_sepa_does_not_allow_is_refused(org, billing_user, reference):
    payer = CustomerFactory(organization=org)
    with pytest.raises(ValidationError) as exc:
        mandates.mandate_create(
            organization=org,
            customer=payer,
            reference=reference,
            signed_on=dt.date(2026, 1, 1),
            iban=IBANS[0],
            debtor_name="X",
            user=billing_user,
            today=TODAY,
        )
    assert "reference" in exc.value.message_dict


def test_a_reference_is_unique_in_the_organization_and_an_invalid_iban_refused(org, billing_user):
    dd_payer(org, reference="M-1")
    payer = CustomerFactory(organization=org)
    kwargs = dict(
        organization=org,
        customer=payer,
        signed_on=dt.date(2026, 1, 1),
        debtor_name="X",
        user=billing_user,
        today=TODAY,
    )
    with pytest.raises(ValidationError, match="already used"):
        mandates.mandate_create(reference="M-1", iban=IBANS[1], **kwargs)
    with pytest.raises(ValidationError) as exc:
        mandates.mandate_create(reference="M-2", iban="DE00123", **kwargs)
    assert "iban" in exc.value.message_dict
