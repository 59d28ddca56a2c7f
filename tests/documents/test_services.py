"""Issuing, the leasing workflow of the seed, refusals that consume no number."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from customers.models import CustomerKind
from documents import services
from documents.models import Document, DocumentKind, DocumentStatus
from financing.services import financing_set
from folders.models import Equipment, FolderStatus, OneOffLine
from organizations.models import AuditEntry, NumberFormat
from tests.documents.conftest import pdf_text, sequence_value
from tests.documents.factories import (
    FolderFactory,
    contact,
    deliver,
    direct_debit,
    finance,
    financier,
    oneoff,
    prospect,
)

pytestmark = pytest.mark.django_db


def _comparable(document):
    return [
        (
            line.position,
            line.description,
            line.quantity,
            line.unit,
            line.unit_price,
            line.discount_percent,
            line.tax_rate,
            line.net,
        )
        for line in document.lines.all()
        if not line.cycle
    ]


# --- quotes -----------------------------------------------------------------------------


def test_it_addresses_the_quote_to_the_end_customer(financed_folder, admin_user, run_on_commit):
    draft = services.quote_create(folder=financed_folder, user=admin_user, valid_until=dt.date(2099, 1, 31))
    quote = run_on_commit(services.quote_issue, quote=draft, user=admin_user)
    customer = financed_folder.customer
    assert quote.number.startswith("AN-")
    assert quote.payer == customer and not quote.third_party
    assert quote.recipient_name == customer.name
    assert quote.recipient_contact_name == "Frau Anna Weber"
    assert quote.valid_until == dt.date(2099, 1, 31)
    kinds = [(line.source_kind, line.cycle) for line in quote.lines.all()]
    assert kinds == [("oneoff", None), ("oneoff", None), ("recurring", 1)]
    # What GRENKE is invoiced: 2 x 4290 + 2.5 x 95 = 8817.50 net, 19 % = 1675.33; the
    # end customer pays nothing once (no setup fee).
    assert quote.financed_totals == {
        "financier": "GRENKE Leasing AG",
        "tax_treatment": "domestic",
        "tax_exemption": "",
        "vat_id": quote.folder.financing.financier.vat_id,
        "net": "8817.50",
        "tax": "1675.33",
        "gross": "10492.83",
        "groups": [{"rate": "19.00", "net": "8817.50", "tax": "1675.33", "gross": "10492.83"}],
    }
    assert [line.financed for line in quote.lines.all()] == [True, True, False]
    assert (quote.total_net, quote.total_tax, quote.total_gross) == (0, 0, 0)
    assert quote.recurring_totals == [
        {
            "cycle": 1,
            "net": "89.00",
            "tax": "16.91",
            "gross": "105.91",
            "groups": [{"rate": "19.00", "net": "89.00", "tax": "16.91", "gross": "105.91"}],
        }
    ]
    assert "GRENKE Leasing AG" in quote.terms_text


def test_issuing_a_draft_quote_takes_the_customer_and_lines_as_they_are_then(
    financed_folder, admin_user, run_on_commit
):
    draft = services.quote_create(folder=financed_folder, user=admin_user)
    customer = financed_folder.customer
    customer.street = "Neue Straße 1"
    customer.save()
    oneoff(financed_folder, description="Zusatzfach", unit_price="100.00", equipment=False)
    quote = run_on_commit(services.quote_issue, quote=draft, user=admin_user)
    assert quote.recipient_address[0] == "Neue Straße 1"
    assert [line.description for line in quote.lines.all()][-2] == "Zusatzfach"
    assert quote.financed_totals["net"] == "8917.50"


def test_it_refuses_a_quote_for_a_folder_without_lines(org, admin_user):
    folder = FolderFactory(organization=org)
    with pytest.raises(ValidationError) as exc:
        services.quote_create(folder=folder, user=admin_user)
    assert exc.value.code == "nothing_to_quote"
    assert not Document.objects.exists()
    assert sequence_value(org, "quote") == 0


def test_accepting_a_quote_activates_the_folder_and_converts_the_prospect(org, admin_user, issue_quote):
    folder = FolderFactory(organization=org, customer=prospect(org), status=FolderStatus.DRAFT)
    oneoff(folder)
    quote = issue_quote(folder, admin_user)
    services.quote_accept(quote=quote, user=admin_user)
    quote.refresh_from_db()
    folder.refresh_from_db()
    folder.customer.refresh_from_db()
    assert quote.status == DocumentStatus.ACCEPTED
    assert folder.status == FolderStatus.ACTIVE
    assert folder.customer.kind == CustomerKind.CUSTOMER
    with pytest.raises(ValidationError):
        services.quote_decline(quote=quote, user=admin_user)


def test_revising_a_quote_issues_a_new_number_and_supersedes_the_old(
    financed_folder, admin_user, run_on_commit, issue_quote
):
    first = issue_quote(financed_folder, admin_user)
    line = financed_folder.oneoff_lines.get(is_equipment=False)
    line.unit_price = Decimal("80.00")
    line.save()
    second = run_on_commit(services.quote_revise, quote=first, user=admin_user)
    first.refresh_from_db()
    assert first.status == DocumentStatus.SUPERSEDED
    assert second.previous_version == first
    assert second.number != first.number
    assert second.financed_totals["net"] == "8780.00"
    assert first.financed_totals["net"] == "8817.50"
    assert "Ersetzt Angebot " + first.number in pdf_text(second)


# --- invoices -------------------------------------------------------------------------------


def test_it_invoices_a_financed_folders_hardware_to_the_financier(
    financed_folder, grenke, admin_user, run_on_commit
):
    deliver(financed_folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=financed_folder, user=admin_user)
    assert invoice.kind == DocumentKind.INVOICE and invoice.number == f"RE-{invoice.issue_date.year}-000001"
    assert invoice.payer == grenke and invoice.customer == financed_folder.customer
    assert invoice.third_party
    assert invoice.recipient_name == "GRENKE Leasing AG"
    assert invoice.recipient_address == ["Neuer Markt 2", "76532 Baden-Baden"]
    assert invoice.recipient_vat_id == "DE143582014"
    assert invoice.payment_terms_days == 30
    assert invoice.due_date == invoice.issue_date + dt.timedelta(days=30)
    assert invoice.leased_object == {
        "end_customer": f"{financed_folder.customer.name} ({financed_folder.customer.number})",
        "folder": f"{financed_folder.number} Kopierer Zentrale",
        "delivery_address": [financed_folder.customer.name, "Lagerweg 5", "20457 Hamburg"],
        "contract_reference": "GR-2026-4711",
        "serial_numbers": ["A7PU021012345", "A7PU021012346"],
    }
    # Only the one-off lines; the recurring service stays with the end customer.
    assert [line.source_kind for line in invoice.lines.all()] == ["oneoff", "oneoff"]
    assert "A7PU021012345" in invoice.lines.first().detail


def test_the_invoice_repeats_the_accepted_quote_exactly(
    financed_folder, admin_user, run_on_commit, issue_quote
):
    quote = issue_quote(financed_folder, admin_user)
    services.quote_accept(quote=quote, user=admin_user)
    deliver(financed_folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=financed_folder, user=admin_user)
    assert _comparable(invoice) == _comparable(quote)
    block = quote.financed_totals
    assert (invoice.total_net, invoice.total_tax, invoice.total_gross) == (
        Decimal(block["net"]),
        Decimal(block["tax"]),
        Decimal(block["gross"]),
    )


def _accepted_quote(folder, user, issue_quote):
    quote = issue_quote(folder, user)
    services.quote_accept(quote=quote, user=user)
    quote.refresh_from_db()
    return quote


@pytest.mark.parametrize(
    "change",
    [
        {"unit_price": Decimal("99.00")},
        {"quantity": Decimal("3")},
        {"discount_percent": Decimal("10")},
        {"description": "Installation und Einweisung\nmit Schulung"},
    ],
)
def test_it_refuses_to_invoice_lines_changed_since_the_accepted_quote(
    financed_folder, admin_user, org, issue_quote, change
):
    quote = _accepted_quote(financed_folder, admin_user, issue_quote)
    OneOffLine.objects.filter(folder=financed_folder, is_equipment=False).update(**change)
    with pytest.raises(ValidationError) as exc:
        deliver(financed_folder)
        services.invoice_oneoff_now(folder=financed_folder, user=admin_user)
    assert exc.value.code == "differs_from_quote"
    message = exc.value.messages[0]
    assert quote.number in message and "Installation und Einweisung" in message
    assert "überarbeiten" in message  # tells the clerk to revise the quote
    assert sequence_value(org, "invoice") == 0
    assert not OneOffLine.objects.filter(invoice_document_id__isnull=False).exists()


def test_it_refuses_lines_added_to_or_dropped_from_the_accepted_quote(
    financed_folder, admin_user, org, issue_quote
):
    quote = _accepted_quote(financed_folder, admin_user, issue_quote)
    oneoff(financed_folder, description="Zusatzfach", unit_price="100.00", equipment=False)
    with pytest.raises(ValidationError) as exc:
        deliver(financed_folder)
        services.invoice_oneoff_now(folder=financed_folder, user=admin_user)
    assert exc.value.code == "differs_from_quote"
    assert "Zusatzfach (nicht im Angebot)" in exc.value.messages[0] and quote.number in exc.value.messages[0]
    OneOffLine.objects.filter(description="Zusatzfach").delete()
    OneOffLine.objects.filter(folder=financed_folder, is_equipment=False).delete()
    with pytest.raises(ValidationError) as exc:
        deliver(financed_folder)
        services.invoice_oneoff_now(folder=financed_folder, user=admin_user)
    assert "Installation und Einweisung (nicht mehr im Ordner)" in exc.value.messages[0]
    assert sequence_value(org, "invoice") == 0


def test_a_revised_quote_binds_once_the_customer_accepted_it(
    financed_folder, admin_user, org, run_on_commit, issue_quote
):
    first = _accepted_quote(financed_folder, admin_user, issue_quote)
    OneOffLine.objects.filter(folder=financed_folder, is_equipment=False).update(unit_price=Decimal("80.00"))
    second = run_on_commit(services.quote_revise, quote=first, user=admin_user)
    first.refresh_from_db()
    assert first.status == DocumentStatus.SUPERSEDED and second.previous_version == first
    # The changed offer is not agreed yet.
    with pytest.raises(ValidationError) as exc:
        deliver(financed_folder)
        services.invoice_oneoff_now(folder=financed_folder, user=admin_user)
    assert exc.value.code == "quote_not_accepted"
    assert second.number in exc.value.messages[0] and first.number in exc.value.messages[0]
    assert sequence_value(org, "invoice") == 0
    services.quote_accept(quote=second, user=admin_user)
    deliver(financed_folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=financed_folder, user=admin_user)
    assert _comparable(invoice) == _comparable(second)
    assert invoice.total_gross == Decimal(second.financed_totals["gross"])


def test_folders_without_an_accepted_quote_are_invoiced_as_they_are(
    financed_folder, direct_folder, admin_user, run_on_commit, issue_quote
):
    deliver(direct_folder)
    run_on_commit(services.invoice_oneoff_now, folder=direct_folder, user=admin_user)  # no quote at all
    quote = issue_quote(financed_folder, admin_user)
    OneOffLine.objects.filter(folder=financed_folder, is_equipment=False).update(unit_price=Decimal("99.00"))
    deliver(financed_folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=financed_folder, user=admin_user)
    assert quote.status == DocumentStatus.ISSUED and invoice.total_net == Decimal("8827.50")


def test_it_never_invoices_a_line_twice(financed_folder, admin_user, org, run_on_commit):
    deliver(financed_folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=financed_folder, user=admin_user)
    lines = list(OneOffLine.objects.filter(folder=financed_folder))
    assert {line.invoice_document_id for line in lines} == {invoice.pk}
    assert {line.invoice_number for line in lines} == {invoice.number}
    before = sequence_value(org, "invoice")
    with pytest.raises(ValidationError) as exc:
        deliver(financed_folder)
        services.invoice_oneoff_now(folder=financed_folder, user=admin_user)
    assert exc.value.code == "nothing_to_invoice"
    assert sequence_value(org, "invoice") == before == 1
    assert Document.objects.filter(kind=DocumentKind.INVOICE).count() == 1


def test_it_invoices_only_lines_added_after_the_first_invoice(financed_folder, admin_user, run_on_commit):
    deliver(financed_folder)
    run_on_commit(services.invoice_oneoff_now, folder=financed_folder, user=admin_user)
    oneoff(
        financed_folder, description="Nachlieferung Toner", quantity="1", unit_price="79.00", equipment=False
    )
    deliver(financed_folder)
    second = run_on_commit(services.invoice_oneoff_now, folder=financed_folder, user=admin_user)
    assert [line.description for line in second.lines.all()] == ["Nachlieferung Toner"]
    assert second.total_net == Decimal("79.00")


def test_it_refuses_a_financier_without_billing_address_and_keeps_the_number(org, admin_user):
    folder = FolderFactory(organization=org)
    oneoff(folder)
    finance(folder, financier(org, name="Leasing ohne Adresse AG", street="", postal_code="", city=""))
    with pytest.raises(ValidationError) as exc:
        deliver(folder)
        services.invoice_oneoff_now(folder=folder, user=admin_user)
    assert exc.value.code == "no_billing_address"
    assert "Leasing ohne Adresse AG" in exc.value.messages[0]
    assert sequence_value(org, "invoice") == 0
    assert not Document.objects.exists()
    assert not OneOffLine.objects.filter(invoice_document_id__isnull=False).exists()


def test_it_invoices_the_financier_only_after_the_approval(org, admin_user):
    folder = FolderFactory(organization=org)
    oneoff(folder)
    financing = finance(folder, status="submitted")
    with pytest.raises(ValidationError) as exc:
        deliver(folder)
        services.invoice_oneoff_now(folder=folder, user=admin_user)
    assert exc.value.code == "financing_not_approved"
    assert sequence_value(org, "invoice") == 0
    financing.approval_status = "approved"
    financing.save()
    deliver(folder)
    assert services.invoice_oneoff_now(folder=folder, user=admin_user).payer == financing.financier


def test_it_invoices_the_end_customer_once_the_financier_rejected_the_financing(org, admin_user):
    folder = FolderFactory(organization=org)
    oneoff(folder)
    financing = finance(folder, status="rejected")
    deliver(folder)
    invoice = services.invoice_oneoff_now(folder=folder, user=admin_user)
    assert invoice.payer == folder.customer and invoice.payer != financing.financier
    assert not invoice.third_party
    with pytest.raises(ValidationError) as exc:
        financing_set(folder=folder, user=admin_user, data={"approval_status": "approved"})
    assert invoice.number in exc.value.message_dict["approval_status"][0]
    financing.refresh_from_db()
    assert financing.approval_status == "rejected"


@pytest.mark.parametrize("financed", [False, True])
def test_it_does_not_invoice_before_the_prospect_accepted(org, admin_user, financed):
    folder = FolderFactory(organization=org, customer=prospect(org))
    oneoff(folder)
    if financed:
        finance(folder)
    with pytest.raises(ValidationError) as exc:
        deliver(folder)
        services.invoice_oneoff_now(folder=folder, user=admin_user)
    assert exc.value.code == "prospect"
    assert sequence_value(org, "invoice") == 0


def test_it_charges_no_vat_under_reverse_charge(org, admin_user, run_on_commit):
    customer = FolderFactory.build(organization=org).customer
    customer.country = "NL"
    customer.tax_treatment = "eu_reverse_charge"
    customer.vat_id = "NL859876543B01"
    customer.save()
    folder = FolderFactory(organization=org, customer=customer)
    line = oneoff(folder, description="Netzwerkeinrichtung vor Ort", unit_price="1000.00", equipment=False)
    line.unit = "hour"
    line.save()
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    assert invoice.total_tax == Decimal("0.00") and invoice.total_gross == Decimal("1000.00")
    assert invoice.lines.get().tax_rate == Decimal("0.00")
    assert "Reverse Charge" in invoice.tax_note and "§ 13b UStG" in invoice.tax_note
    assert invoice.tax_breakdown == [{"rate": "0.00", "net": "1000.00", "tax": "0.00", "gross": "1000.00"}]


def test_it_asks_direct_debit_payers_for_nothing_and_names_the_mandate(org, admin_user, run_on_commit):
    folder = FolderFactory(organization=org)
    direct_debit(folder.customer, mandate_reference="MND-000123", signed_on=dt.date(2025, 1, 2))
    oneoff(folder, equipment=False, unit_price="100.00")
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    assert invoice.payment_method == "direct_debit" and invoice.mandate_reference == "MND-000123"
    assert "SEPA-Lastschrift" in invoice.payment_text
    assert "MND-000123" in invoice.payment_text and "DE98ZZZ09999999999" in invoice.payment_text
    assert "DE89 **** **** 3000" in invoice.payment_text
    # The pre-notification: amount and the earliest collection date (the due date).
    assert f"frühestens am {invoice.due_date:%d.%m.%Y}" in invoice.payment_text
    assert "Den Betrag von 119,00 €" in invoice.payment_text


def test_the_folders_payment_method_wins_over_the_customers(org, admin_user, run_on_commit):
    folder = FolderFactory(organization=org, payment_method="bank_transfer")
    direct_debit(folder.customer, mandate_reference="MND-1", signed_on=dt.date(2025, 1, 2))
    oneoff(folder, equipment=False)
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    assert invoice.payment_method == "bank_transfer"
    assert "überweisen" in invoice.payment_text and invoice.number in invoice.payment_text


def test_it_refuses_direct_debit_without_a_mandate(org, admin_user):
    folder = FolderFactory(organization=org, payment_method="direct_debit")
    oneoff(folder, equipment=False)
    with pytest.raises(ValidationError) as exc:
        deliver(folder)
        services.invoice_oneoff_now(folder=folder, user=admin_user)
    assert exc.value.code == "no_mandate"
    assert sequence_value(org, "invoice") == 0


def test_a_later_change_to_customer_or_folder_changes_no_issued_document(
    financed_folder, grenke, admin_user, run_on_commit
):
    deliver(financed_folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=financed_folder, user=admin_user)
    frozen = {f.attname: getattr(invoice, f.attname) for f in Document._meta.concrete_fields}
    lines = list(invoice.lines.values())
    grenke.name = "GRENKE Bank AG"
    grenke.street = "Andere Straße 9"
    grenke.save()
    financed_folder.name = "Umbenannt"
    financed_folder.save()
    OneOffLine.objects.filter(folder=financed_folder).update(
        unit_price=Decimal("1.00"), description="geändert"
    )
    org = invoice.organization
    org.legal_name = "Neuer Name GmbH"
    org.save()
    invoice = Document.objects.get(pk=invoice.pk)
    assert {f.attname: getattr(invoice, f.attname) for f in Document._meta.concrete_fields} == frozen
    assert list(invoice.lines.values()) == lines
    # Rendering the frozen data again gives the very same bytes.
    import hashlib

    from documents.pdf import render_document_pdf

    assert hashlib.sha256(render_document_pdf(invoice)).hexdigest() == invoice.pdf_sha256


def test_it_files_every_document_in_the_folders_history(
    financed_folder, admin_user, run_on_commit, issue_quote
):
    quote = issue_quote(financed_folder, admin_user)
    deliver(financed_folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=financed_folder, user=admin_user)
    entries = AuditEntry.objects.filter(object_type="folders.folder", object_id=financed_folder.pk)
    issued = {(e.action, e.data.get("number")) for e in entries}
    assert ("quote.issued", quote.number) in issued
    assert ("invoice.issued", invoice.number) in issued
    assert entries.filter(action="invoice.issued").get().user == admin_user


def test_numbers_restart_with_the_year(org, admin_user, run_on_commit):
    first = FolderFactory(organization=org)
    oneoff(first, equipment=False)
    second = FolderFactory(organization=org)
    oneoff(second, equipment=False)
    third = FolderFactory(organization=org)
    oneoff(third, equipment=False)
    deliver(first)
    a = run_on_commit(
        services.invoice_oneoff_now, folder=first, user=admin_user, issue_date=dt.date(2026, 12, 31)
    )
    deliver(second)
    b = run_on_commit(
        services.invoice_oneoff_now, folder=second, user=admin_user, issue_date=dt.date(2027, 1, 1)
    )
    deliver(third)
    c = run_on_commit(
        services.invoice_oneoff_now, folder=third, user=admin_user, issue_date=dt.date(2027, 1, 1)
    )
    assert [a.number, b.number, c.number] == ["RE-2026-000001", "RE-2027-000001", "RE-2027-000002"]


def test_it_uses_the_organizations_number_pattern(org, admin_user, run_on_commit):
    NumberFormat.objects.create(organization=org, kind="invoice", pattern="R{counter:05}")
    folder = FolderFactory(organization=org)
    oneoff(folder, equipment=False)
    deliver(folder)
    invoice = run_on_commit(
        services.invoice_oneoff_now, folder=folder, user=admin_user, issue_date=dt.date(2026, 12, 31)
    )
    assert invoice.number == "R00001"


# --- credit notes ----------------------------------------------------------------------------


def test_cancelling_an_invoice_reverses_it_and_reopens_the_lines(
    direct_folder, admin_user, org, run_on_commit, invoice
):
    credit = run_on_commit(services.invoice_cancel, invoice=invoice, user=admin_user, reason="Falsche Menge")
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.CANCELLED
    assert credit.kind == DocumentKind.CREDIT_NOTE and credit.cancels == invoice and credit.cancellation
    assert credit.number.startswith("GS-")
    assert (credit.total_net, credit.total_tax, credit.total_gross) == (
        -invoice.total_net,
        -invoice.total_tax,
        -invoice.total_gross,
    )
    assert [line.quantity for line in credit.lines.all()] == [-line.quantity for line in invoice.lines.all()]
    assert not OneOffLine.objects.filter(folder=direct_folder, invoice_document_id__isnull=False).exists()
    deliver(direct_folder)
    again = run_on_commit(services.invoice_oneoff_now, folder=direct_folder, user=admin_user)
    assert again.total_gross == invoice.total_gross and again.number != invoice.number
    text = pdf_text(credit)
    assert f"Stornorechnung Nr. {credit.number}" in text
    assert f"Stornorechnung zu Rechnung {invoice.number}" in text


def test_it_refuses_to_cancel_twice_or_a_draft(
    direct_folder, financed_folder, admin_user, org, run_on_commit, invoice
):
    run_on_commit(services.invoice_cancel, invoice=invoice, user=admin_user, reason="Fehler")
    before = sequence_value(org, "credit_note")
    with pytest.raises(ValidationError) as exc:
        services.invoice_cancel(invoice=invoice, user=admin_user, reason="Nochmal")
    assert exc.value.code == "already_cancelled"
    draft = services.quote_create(folder=financed_folder, user=admin_user)
    with pytest.raises(ValidationError):
        services.invoice_cancel(invoice=draft, user=admin_user, reason="x")
    draft_invoice = services.document_draft_create(
        organization=org,
        kind="invoice",
        user=admin_user,
        customer=direct_folder.customer,
        payer=direct_folder.customer,
        lines=[
            services.LineSpec(
                description="x", quantity=Decimal(1), unit_price=Decimal(1), tax_rate=Decimal(19)
            )
        ],
    )
    with pytest.raises(ValidationError) as exc:
        services.invoice_cancel(invoice=draft_invoice, user=admin_user, reason="x")
    assert exc.value.code == "draft"
    assert sequence_value(org, "credit_note") == before == 1


def test_it_credits_chosen_lines_and_an_amount_but_never_more(admin_user, org, issue_correction, invoice):
    phones, manuals = invoice.lines.all()
    credit = issue_correction(invoice, admin_user, "Handbücher zurück", line_ids=[manuals.pk])
    assert not credit.cancellation
    assert credit.total_net == Decimal("-49.60") and credit.total_tax == Decimal("-3.47")
    assert credit.lines.get().reverses == manuals
    with pytest.raises(ValidationError) as exc:
        services.credit_note_partial(invoice=invoice, user=admin_user, reason="x", line_ids=[manuals.pk])
    assert exc.value.code == "already_credited"
    amount = issue_correction(
        invoice, admin_user, "Kulanz", amount=Decimal("100.00"), tax_rate=Decimal("19.00")
    )
    assert (amount.total_net, amount.total_tax, amount.total_gross) == (
        Decimal("-100.00"),
        Decimal("-19.00"),
        Decimal("-119.00"),
    )
    # 3 x 189.90 = 569.70 at 19 %; 100 credited, so 469.70 is left.
    before = sequence_value(org, "credit_note")
    with pytest.raises(ValidationError) as exc:
        services.credit_note_partial(
            invoice=invoice, user=admin_user, reason="x", amount=Decimal("469.71"), tax_rate=Decimal("19")
        )
    assert exc.value.code == "too_much"
    assert sequence_value(org, "credit_note") == before
    # A partially credited invoice is not cancelled in full any more.
    with pytest.raises(ValidationError) as exc:
        services.invoice_cancel(invoice=invoice, user=admin_user, reason="x")
    assert exc.value.code == "partially_credited"
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.ISSUED
    text = pdf_text(amount)
    assert f"Rechnungskorrektur Nr. {amount.number}" in text
    assert "Rechnungskorrektur zu Rechnung " + invoice.number in text
    assert "Gutschrift" not in text  # that would be self-billing (§ 14 (2) UStG)


def test_invoice_corrections_that_reach_the_total_cancel_the_invoice(
    direct_folder, admin_user, org, run_on_commit, issue_correction, invoice
):
    phones, manuals = invoice.lines.all()
    issue_correction(invoice, admin_user, "Handbücher", line_ids=[manuals.pk])
    issue_correction(invoice, admin_user, "Kulanz", amount=Decimal("100.00"), tax_rate=Decimal("19.00"))
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.ISSUED
    assert OneOffLine.objects.filter(folder=direct_folder, invoice_document_id=invoice.pk).count() == 2
    # 569.70 at 19 % less 100.00: more than the 469.70 left is refused, nothing written.
    before = sequence_value(org, "credit_note")
    with pytest.raises(ValidationError) as exc:
        services.credit_note_partial(
            invoice=invoice, user=admin_user, reason="x", amount=Decimal("469.71"), tax_rate=Decimal("19")
        )
    assert exc.value.code == "too_much" and "469,70" in exc.value.messages[0]
    with pytest.raises(ValidationError) as exc:
        services.credit_note_partial(invoice=invoice, user=admin_user, reason="x", line_ids=[phones.pk])
    assert exc.value.code == "too_much"
    assert sequence_value(org, "credit_note") == before
    last = issue_correction(invoice, admin_user, "Rest", amount=Decimal("469.70"), tax_rate=Decimal("19.00"))
    invoice.refresh_from_db()
    credited = sum(c.total_gross for c in invoice.credit_notes.all())
    assert credited == -invoice.total_gross
    assert invoice.status == DocumentStatus.CANCELLED
    assert not last.cancellation  # the corrections stay what they are
    # The folder lines are released as by a cancellation, and invoiced again.
    assert not OneOffLine.objects.filter(folder=direct_folder, invoice_document_id__isnull=False).exists()
    deliver(direct_folder)
    again = run_on_commit(services.invoice_oneoff_now, folder=direct_folder, user=admin_user)
    assert again.total_gross == invoice.total_gross
    assert AuditEntry.objects.filter(action="invoice.cancelled", data__document_id=invoice.pk).exists()
    with pytest.raises(ValidationError) as exc:
        services.credit_note_partial(invoice=invoice, user=admin_user, reason="x", amount=Decimal("1.00"))
    assert exc.value.code == "already_cancelled"


def test_crediting_every_line_cancels_the_invoice(admin_user, issue_correction, invoice):
    phones, manuals = invoice.lines.all()
    issue_correction(invoice, admin_user, "Retoure", line_ids=[phones.pk])
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.ISSUED
    issue_correction(invoice, admin_user, "Retoure", line_ids=[manuals.pk])
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.CANCELLED


# --- delivery notes ---------------------------------------------------------------------------


def test_it_delivers_in_parts_with_gap_free_numbers(financed_folder, admin_user, org, run_on_commit):
    first_piece, second_piece = Equipment.objects.filter(line__folder=financed_folder).order_by("piece")

    def deliver_piece(piece, day):
        return run_on_commit(
            services.delivery_note_issue,
            folder=financed_folder,
            user=admin_user,
            equipment_ids=[piece.pk],
            delivery_date=day,
        )

    first = deliver_piece(first_piece, dt.date(2026, 11, 20))
    first_piece.refresh_from_db()
    second_piece.refresh_from_db()
    assert first_piece.delivered_on == dt.date(2026, 11, 20)
    assert second_piece.delivered_on is None
    line = first_piece.line
    line.refresh_from_db()
    assert line.delivery_document_id is None  # the line is only partly delivered
    second = deliver_piece(second_piece, dt.date(2026, 11, 23))
    line.refresh_from_db()
    assert line.delivery_document_id == second.pk and line.delivery_note_number == second.number
    year = first.issue_date.year
    assert [first.number, second.number] == [f"LS-{year}-0001", f"LS-{year}-0002"]
    line = first.lines.get()
    assert (line.serial_number, line.model_number, line.warranty_end) == (
        "A7PU021012345",
        first_piece.model_number,
        dt.date(2028, 12, 31),
    )
    assert first.delivery_address == [financed_folder.customer.name, "Lagerweg 5", "20457 Hamburg"]
    assert first.payer == financed_folder.customer
    assert first.leased_object["contract_reference"] == "GR-2026-4711"


def test_a_delivery_date_typed_into_the_folder_does_not_block_the_delivery_note(
    financed_folder, admin_user, run_on_commit
):
    pieces = list(Equipment.objects.filter(line__folder=financed_folder).order_by("piece"))
    Equipment.objects.filter(pk=pieces[0].pk).update(delivered_on=dt.date(2026, 11, 2))
    note = run_on_commit(
        services.delivery_note_issue,
        folder=financed_folder,
        user=admin_user,
        equipment_ids=[p.pk for p in pieces],
        delivery_date=dt.date(2026, 11, 5),
    )
    assert [line.serial_number for line in note.lines.all()] == ["A7PU021012345", "A7PU021012346"]
    assert [
        p.delivered_on for p in Equipment.objects.filter(pk__in=[p.pk for p in pieces]).order_by("piece")
    ] == [dt.date(2026, 11, 2), dt.date(2026, 11, 5)]
    line = pieces[0].line
    line.refresh_from_db()
    assert line.delivery_document_id == note.pk


def test_it_refuses_pieces_already_delivered_unknown_or_foreign(
    financed_folder, direct_folder, admin_user, org, other_org, run_on_commit
):
    piece = Equipment.objects.filter(line__folder=financed_folder).first()
    run_on_commit(
        services.delivery_note_issue, folder=financed_folder, user=admin_user, equipment_ids=[piece.pk]
    )
    foreign_folder = FolderFactory(organization=other_org)
    foreign = oneoff(foreign_folder, serials=("X",)).equipment.get()
    other_piece = Equipment.objects.filter(line__folder=direct_folder).first()
    before = sequence_value(org, "delivery_note")
    for ids, code in [
        ([piece.pk], "already_delivered"),
        ([987654], "unknown_equipment"),
        ([other_piece.pk], "unknown_equipment"),
        ([foreign.pk], "unknown_equipment"),
        ([], "no_equipment"),
        (["abc"], "unknown_equipment"),
    ]:
        with pytest.raises(ValidationError) as exc:
            services.delivery_note_issue(folder=financed_folder, user=admin_user, equipment_ids=ids)
        assert exc.value.code == code, ids
    assert sequence_value(org, "delivery_note") == before == 1
    assert Document.objects.filter(kind=DocumentKind.DELIVERY_NOTE).count() == 1


# --- sending ----------------------------------------------------------------------------------


def test_it_sends_the_pdf_to_the_payers_invoice_recipients(financed_folder, admin_user, run_on_commit):
    contact(
        financed_folder.financing.financier, first_name="Petra", last_name="Buch", email="buch@grenke.example"
    )
    deliver(financed_folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=financed_folder, user=admin_user)
    run_on_commit(services.document_send, document=invoice, user=admin_user)
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.SENT and invoice.sent_at
    [message] = mail.outbox
    assert message.to == ["rechnungen@grenke.example", "buch@grenke.example"]
    assert invoice.number in message.subject
    [(name, content, mime)] = message.attachments
    assert name == f"{invoice.number}.pdf" and mime == "application/pdf" and content.startswith(b"%PDF")


def test_it_refuses_to_send_without_an_address(direct_folder, admin_user, run_on_commit):
    customer = direct_folder.customer
    customer.email = ""
    customer.save()
    customer.contacts.update(is_invoice_recipient=False)
    deliver(direct_folder)
    # An e-mail customer without any address is refused when the invoice is issued ...
    with pytest.raises(ValidationError) as exc:
        run_on_commit(services.invoice_oneoff_now, folder=direct_folder, user=admin_user)
    assert exc.value.code == "no_recipient" and customer.name in exc.value.messages[0]
    assert not Document.objects.filter(folder=direct_folder, kind="invoice").exists()
    # ... and an address removed after the invoice was issued stops the sending.
    customer.email = "buchhaltung@kunde.example"
    customer.save()
    invoice = run_on_commit(services.invoice_oneoff_now, folder=direct_folder, user=admin_user)
    customer.email = ""
    customer.save()
    invoice.payer.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        services.document_send(document=invoice, user=admin_user)
    assert exc.value.code == "no_recipient"
    assert not mail.outbox


def test_without_invoice_recipients_the_mail_goes_to_the_customers_e_mail_and_nothing_warns(
    direct_folder, admin_user, run_on_commit
):
    from customers.models import DeliveryMethod
    from customers.selectors import customer_warnings

    customer = direct_folder.customer
    customer.email = "info@kunde.example"
    customer.invoice_email = ""
    customer.delivery_method = DeliveryMethod.EMAIL_PDF
    customer.save()
    customer.contacts.update(is_invoice_recipient=False)
    # The customer page warns only when sending would fail: here it does not.
    assert customer_warnings(customer=customer) == []
    deliver(direct_folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=direct_folder, user=admin_user)
    run_on_commit(services.document_send, document=invoice, user=admin_user)
    [message] = mail.outbox
    assert message.to == ["info@kunde.example"]


# --- bulk issuing ------------------------------------------------------------------------------


def test_bulk_issuing_prints_the_same_eu_tax_note_as_single_issuing(org, admin_user):
    from django.db import transaction

    from documents.bulk import InvoiceSpec, invoices_issue_bulk

    folder = FolderFactory(organization=org)
    customer = folder.customer
    customer.country, customer.tax_treatment, customer.vat_id = "AT", "eu_reverse_charge", "ATU13585627"
    customer.save()
    copier = oneoff(folder, unit_price="4290.00", serials=("A7PU1",))
    specs = [
        services.oneoff_spec(copier, "de", copier.equipment.all()),
        services.LineSpec(
            description="Wartung",
            quantity=Decimal(1),
            unit_price=Decimal("89.00"),
            tax_rate=Decimal("19.00"),
            source_kind="recurring",
            cycle=1,
        ),
    ]
    single = services.document_issue(
        document=services.document_draft_create(
            organization=org,
            kind="invoice",
            user=admin_user,
            customer=customer,
            payer=customer,
            lines=specs,
            folder=folder,
        ),
        user=admin_user,
    )
    with transaction.atomic():
        [(bulk, _ids)] = invoices_issue_bulk(
            organization=org,
            specs=[InvoiceSpec(customer=customer, payer=customer, folder=folder, lines=specs)],
            user=admin_user,
            issue_date=single.issue_date,
            render_pdfs=False,
        )
    bulk.refresh_from_db()
    assert bulk.tax_note == single.tax_note
    assert single.tax_note.startswith("Pos. 1: Steuerfreie innergemeinschaftliche Lieferung")
    assert "Pos. 2: Steuerschuldnerschaft des Leistungsempfängers" in single.tax_note
    assert list(bulk.lines.values_list("goods", flat=True)) == [True, False]
