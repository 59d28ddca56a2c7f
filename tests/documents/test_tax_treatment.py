"""No VAT-free line without its legal ground: the customer's tax treatment decides each
line's rate and the printed reason; a 0 % line without a reason is never issued.

PDFs are read back with pypdf (tests.documents.conftest.pdf_text)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from billing.models import BillingRunFailure
from documents import services
from documents.models import Document, DocumentStatus
from documents.tax import LineTax, line_tax, reasons_by_position, unexplained_zero_positions
from tests.billing import factories as billing_factories
from tests.billing.helpers import bill, invoices
from tests.documents.conftest import pdf_text
from tests.documents.factories import FolderFactory, deliver, oneoff, recurring

pytestmark = pytest.mark.django_db

D = Decimal


def _normalized(text: str) -> str:
    return " ".join(text.split())


def _folder(org, **customer_fields):
    folder = FolderFactory(organization=org)
    customer = folder.customer
    for name, value in customer_fields.items():
        setattr(customer, name, value)
    customer.save()
    return folder


def _service(folder, description="Schulung vor Ort", price="95.00"):
    line = oneoff(folder, description=description, unit_price=price, equipment=False)
    line.unit = "hour"
    line.save()
    return line


# --- the rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("treatment", "goods", "exemption", "expected"),
    [
        ("domestic", True, "", LineTax(D("19.00"), "")),
        ("domestic", False, "", LineTax(D("19.00"), "")),
        ("exempt", False, "4_14", LineTax(D("0.00"), "exempt_4_14")),
        ("exempt", True, "", LineTax(D("0.00"), "")),
        ("eu_reverse_charge", True, "", LineTax(D("0.00"), "eu_goods")),
        ("eu_reverse_charge", False, "", LineTax(D("0.00"), "eu_services")),
        ("non_eu", True, "", LineTax(D("0.00"), "export_goods")),
        ("non_eu", False, "", LineTax(D("0.00"), "non_eu_services")),
        ("needs_review", False, "", LineTax(D("19.00"), "")),
    ],
)
def test_it_decides_rate_and_reason_of_a_line_from_treatment_and_supply(
    treatment, goods, exemption, expected
):
    assert line_tax(treatment=treatment, rate=D("19"), goods=goods, exemption=exemption) == expected


class _Line:
    def __init__(self, position, rate, goods=False):
        self.position, self.tax_rate, self.goods = position, D(rate), goods


def test_it_finds_zero_rate_lines_without_a_reason():
    lines = [_Line(1, "19.00"), _Line(2, "0.00"), _Line(3, "7.00")]
    assert unexplained_zero_positions(lines, treatment="domestic") == [2]
    assert unexplained_zero_positions(lines, treatment="exempt", exemption="4_21") == []
    assert unexplained_zero_positions(lines, treatment="exempt") == [1, 2, 3]
    assert reasons_by_position(lines, treatment="non_eu") == [("non_eu_services", [1, 2, 3])]


# --- printed ----------------------------------------------------------------------------------


def test_an_exempt_customers_invoice_prints_its_provision(org, admin_user, run_on_commit):
    folder = _folder(org, tax_treatment="exempt", tax_exemption="4_14")
    _service(folder)
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    text = _normalized(pdf_text(invoice))
    assert "Steuerfreie Leistung nach § 4 Nr. 14 UStG (Heilbehandlung im Bereich der Humanmedizin)." in text
    assert "0 % USt auf 95,00 €" in text
    assert (invoice.total_tax, invoice.total_gross) == (D("0.00"), D("95.00"))
    assert invoice.tax_exemption == "4_14"
    assert [line.tax_rate for line in invoice.lines.all()] == [D("0.00")]


def test_an_exempt_customers_quote_prints_its_provision_in_english(org, admin_user, run_on_commit):
    folder = _folder(org, tax_treatment="exempt", tax_exemption="4_21", language="en")
    recurring(folder)
    quote = services.quote_create(folder=folder, user=admin_user, valid_until=dt.date(2099, 1, 31))
    quote = run_on_commit(services.quote_issue, quote=quote, user=admin_user)
    text = _normalized(pdf_text(quote))
    assert "VAT-exempt supply under § 4 No. 21 UStG (services directly serving school and educational" in text
    assert "Steuerfrei" not in text


def test_a_third_country_invoice_names_export_and_non_taxable_services_apart(org, admin_user, run_on_commit):
    folder = _folder(org, country="CH", postal_code="8001", city="Zürich", tax_treatment="non_eu")
    oneoff(folder, unit_price="4290.00", serials=("A7PU0001",))
    _service(folder, description="Einrichtung vor Ort")
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    text = _normalized(pdf_text(invoice))
    assert "Pos. 1: Steuerfreie Ausfuhrlieferung (§ 4 Nr. 1a i. V. m. § 6 UStG)." in text
    assert "Pos. 2: Nicht im Inland steuerbare Leistung (§ 3a Abs. 2 UStG)" in text
    assert "bzw." not in text  # no more "one or the other" note
    assert "Schweiz" in text


def test_a_service_to_a_third_country_in_english_is_not_taxable_in_germany(org, admin_user, run_on_commit):
    folder = _folder(
        org, country="CH", postal_code="8001", city="Zürich", tax_treatment="non_eu", language="en"
    )
    _service(folder)
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    text = _normalized(pdf_text(invoice))
    assert "Service not taxable in Germany (§ 3a (2) UStG)" in text
    assert "export" not in text
    assert "Switzerland" in text


@pytest.mark.parametrize(
    ("language", "name", "other"), [("de", "Österreich", "Austria"), ("en", "Austria", "Österreich")]
)
def test_the_recipients_country_is_printed_by_name_in_the_documents_language(
    org, admin_user, run_on_commit, language, name, other
):
    folder = _folder(
        org,
        country="AT",
        postal_code="1010",
        city="Wien",
        tax_treatment="eu_reverse_charge",
        vat_id="ATU13585627",
        language=language,
    )
    oneoff(folder, unit_price="500.00", serials=("A7PU0001",))
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    assert invoice.recipient_address[-1] == name
    lines = pdf_text(invoice).splitlines()
    assert name in lines and "AT" not in lines
    assert other not in pdf_text(invoice)


# --- refused ---------------------------------------------------------------------------------


def test_a_customer_whose_treatment_needs_review_gets_no_invoice(org, admin_user):
    folder = _folder(org, name="Alt-Kunde GmbH", tax_treatment="needs_review")
    line = _service(folder)
    with pytest.raises(ValidationError) as exc:
        services.invoice_oneoff_now(folder=folder, user=admin_user)
    assert exc.value.code == "tax_treatment_needs_review"
    assert "Alt-Kunde GmbH" in exc.value.messages[0]
    assert "Wählen Sie zuerst die steuerliche Behandlung" in exc.value.messages[0]
    assert not Document.objects.exclude(status=DocumentStatus.DRAFT).exists()
    line.refresh_from_db()
    assert line.invoice_document_id is None


def test_a_customer_whose_treatment_needs_review_gets_no_quote(org, admin_user):
    folder = _folder(org, tax_treatment="needs_review")
    recurring(folder)
    draft = services.quote_create(folder=folder, user=admin_user)
    with pytest.raises(ValidationError) as exc:
        services.quote_issue(quote=draft, user=admin_user)
    assert exc.value.code == "tax_treatment_needs_review"
    draft.refresh_from_db()
    assert draft.is_draft and draft.number == ""


def test_a_zero_rate_line_without_a_reason_is_not_issued(org, admin_user):
    folder = _folder(org)
    oneoff(folder, unit_price="100.00", equipment=False)
    oneoff(folder, description="Zubehör", unit_price="20.00", rate="0.00", equipment=False)
    with pytest.raises(ValidationError) as exc:
        services.invoice_oneoff_now(folder=folder, user=admin_user)
    assert exc.value.code == "zero_rate_without_reason"
    assert exc.value.messages[0].startswith("Pos. 2 hat 0 % USt, aber keinen gedruckten Grund.")
    assert not Document.objects.exclude(status=DocumentStatus.DRAFT).exists()


def test_the_billing_run_lists_a_payer_whose_treatment_needs_review(org):
    customer = billing_factories.customer(org, name="Ungeklärt GmbH", tax_treatment="needs_review")
    billing_factories.recurring(billing_factories.folder(org, customer), start=dt.date(2026, 11, 1))
    run = bill(org, dt.date(2026, 11, 1))
    assert invoices(org, run) == []
    failure = BillingRunFailure.objects.get(run=run)
    assert failure.payer == customer
    assert "Ungeklärt GmbH" in failure.message and "steuerliche Behandlung" in failure.message


def test_the_billing_run_refuses_a_zero_rate_line_without_a_reason(org):
    customer = billing_factories.customer(org, name="Null Prozent GmbH")
    folder = billing_factories.folder(org, customer)
    billing_factories.recurring(folder, start=dt.date(2026, 11, 1), rate="0.00")
    run = bill(org, dt.date(2026, 11, 1))
    assert invoices(org, run) == []
    assert "0 % USt" in BillingRunFailure.objects.get(run=run).message


# --- the issuer's own status -------------------------------------------------------------------


def test_a_small_business_charges_no_vat_and_prints_the_section_19_note(org, admin_user, run_on_commit):
    org.small_business = True
    org.save()
    folder = _folder(org)
    _service(folder)
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    assert invoice.issuer["small_business"] is True
    assert (invoice.total_tax, invoice.total_gross) == (D("0.00"), D("95.00"))
    text = _normalized(pdf_text(invoice))
    assert "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet." in text


def test_a_small_business_note_replaces_the_customers_own_reason(org, admin_user, run_on_commit):
    org.small_business = True
    org.save()
    folder = _folder(
        org, country="CH", postal_code="8001", city="Zürich", tax_treatment="non_eu", language="en"
    )
    oneoff(folder, unit_price="500.00", serials=("A7PU0001",))
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    assert invoice.tax_note == "No VAT is charged: small business under § 19 UStG."


def test_the_billing_run_of_a_small_business_invoices_without_vat(org):
    org.small_business = True
    org.save()
    customer = billing_factories.customer(org)
    billing_factories.recurring(
        billing_factories.folder(org, customer), start=dt.date(2026, 11, 1), price="100.00"
    )
    [invoice] = invoices(org, bill(org, dt.date(2026, 11, 1)))
    assert (invoice.total_tax, invoice.total_gross) == (D("0.00"), D("100.00"))
    assert invoice.tax_note == "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet."


def test_an_invoice_from_before_the_reasons_can_still_be_cancelled(org, admin_user, run_on_commit):
    folder = _folder(org, tax_treatment="exempt", tax_exemption="4_8")
    _service(folder)
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    # What the old checkbox left: exempt, no provision, the reasonless note.
    old_note = "Steuerfreie Leistung: Es wird keine Umsatzsteuer berechnet."
    with connection.cursor() as cursor:  # past the freeze guard, as the old data is
        cursor.execute(
            "UPDATE documents_document SET tax_exemption = '', tax_note = %s WHERE id = %s",
            [old_note, invoice.pk],
        )
    invoice.refresh_from_db()
    folder.customer.tax_treatment = "needs_review"
    folder.customer.save()
    credit = run_on_commit(services.invoice_cancel, invoice=invoice, user=admin_user, reason="Falscher Kunde")
    assert credit.number and credit.tax_note == old_note
    assert credit.total_gross == -invoice.total_gross


def test_the_clerk_is_told_to_choose_the_treatment_instead_of_an_error_page(org, admin_client):
    folder = _folder(org, name="Alt-Kunde GmbH", tax_treatment="needs_review")
    _service(folder)
    response = admin_client.post(reverse("documents:invoice_oneoff", args=[folder.pk]), follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Die steuerliche Behandlung von Alt-Kunde GmbH muss geprüft werden" in page
    assert not Document.objects.exclude(status=DocumentStatus.DRAFT).exists()


def test_a_correction_reverses_the_vat_charged_before_the_small_business_status(
    org, admin_user, run_on_commit
):
    folder = _folder(org)
    _service(folder)
    deliver(folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    assert invoice.total_tax == D("18.05")
    org.small_business = True
    org.save()
    credit = run_on_commit(services.invoice_cancel, invoice=invoice, user=admin_user, reason="Storno")
    assert (credit.total_tax, credit.total_gross) == (D("-18.05"), -invoice.total_gross)
    assert "§ 19" not in credit.tax_note
