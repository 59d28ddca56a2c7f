"""EN 16931 e-invoices of real issued documents: each test invoice is built through the
issuing services (or the billing run), then its XML (CII and UBL) is checked by
independent validators - the XSD, the CEN EN 16931 rules and, where the payer receives
XRechnung, the KoSIT rules - and its numbers are read back against the database and the
PDF. The ZUGFeRD PDF is read with pypdf."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from lxml import etree
from pypdf import PdfReader

from customers.models import Customer
from documents import einvoice, services
from documents.models import Document, DocumentKind
from documents.pdf import render_and_store
from folders.models import OneOffLine
from tests.billing.helpers import bill, invoices
from tests.documents.conftest import pdf_text
from tests.documents.einvoice_validation import assert_valid, rule_failures
from tests.documents.factories import FolderFactory, contact, deliver, finance, financier, oneoff, recurring

pytestmark = pytest.mark.django_db

D = Decimal
RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"
LEITWEG_ID = "04011000-1234512345-06"


def _set(customer, **fields) -> Customer:
    for name, value in fields.items():
        setattr(customer, name, value)
    customer.full_clean()
    customer.save()
    return customer


def _oneoff_invoice(folder, user, run_on_commit) -> Document:
    deliver(folder)
    return run_on_commit(services.invoice_oneoff_now, folder=folder, user=user)


def _domestic(org, user, run_on_commit):
    folder = FolderFactory(organization=org)
    contact(folder.customer)
    oneoff(folder, description="Yealink T54W\nIP-Telefon", quantity="3", unit_price="189.90", serials=("Y1",))
    oneoff(folder, description="Handbuch", quantity="2", unit_price="24.80", rate="7.00", equipment=False)
    return _oneoff_invoice(folder, user, run_on_commit)


def _discounted(org, user, run_on_commit):
    folder = FolderFactory(organization=org)
    oneoff(folder, quantity="2", unit_price="1234.5678", discount="12.5")
    oneoff(
        folder, description="Einrichtung", quantity="1.5", unit_price="95.00", discount="10", equipment=False
    )
    return _oneoff_invoice(folder, user, run_on_commit)


def _eu_customer(org, **extra):
    folder = FolderFactory(organization=org)
    _set(
        folder.customer,
        country="AT",
        postal_code="1010",
        city="Wien",
        street="Graben 1",
        vat_id="ATU13585627",
        tax_treatment="eu_reverse_charge",
        **extra,
    )
    return folder


def _reverse_charge(org, user, run_on_commit):
    folder = _eu_customer(org)
    line = oneoff(folder, description="Fernwartung", quantity="4", unit_price="85.00", equipment=False)
    OneOffLine.objects.filter(pk=line.pk).update(unit="hour")
    return _oneoff_invoice(folder, user, run_on_commit)


def _intra_eu_supply(org, user, run_on_commit):
    folder = _eu_customer(org)
    oneoff(folder, quantity="1", unit_price="3100.00")
    return _oneoff_invoice(folder, user, run_on_commit)


def _exempt(org, user, run_on_commit):
    folder = FolderFactory(organization=org)
    _set(folder.customer, tax_treatment="exempt", tax_exemption="4_14")
    oneoff(folder, quantity="1", unit_price="2100.00")
    return _oneoff_invoice(folder, user, run_on_commit)


def _export(org, user, run_on_commit):
    folder = FolderFactory(organization=org)
    _set(folder.customer, country="CH", postal_code="8001", city="Zürich", tax_treatment="non_eu", vat_id="")
    oneoff(folder, quantity="2", unit_price="1450.00")
    return _oneoff_invoice(folder, user, run_on_commit)


def _non_eu_services(org, user, run_on_commit):
    folder = FolderFactory(organization=org)
    _set(folder.customer, country="CH", postal_code="8001", city="Zürich", tax_treatment="non_eu", vat_id="")
    line = oneoff(folder, description="Fernwartung", quantity="2", unit_price="85.00", equipment=False)
    OneOffLine.objects.filter(pk=line.pk).update(unit="hour")
    return _oneoff_invoice(folder, user, run_on_commit)


def _small_business(org, user, run_on_commit):
    org.small_business = True
    org.save()
    folder = FolderFactory(organization=org)
    oneoff(folder, quantity="1", unit_price="450.00")
    return _oneoff_invoice(folder, user, run_on_commit)


def _credit_note(org, user, run_on_commit):
    invoice = _domestic(org, user, run_on_commit)
    return run_on_commit(services.invoice_cancel, invoice=invoice, user=user, reason="Falsche Menge")


def _financier(org, user, run_on_commit):
    folder = FolderFactory(organization=org, delivery_name="Zentrale Lager", delivery_city="Hamburg")
    contact(folder.customer)
    oneoff(folder, quantity="2", serials=("A7PU1", "A7PU2"))
    finance(folder, financier(org))
    return _oneoff_invoice(folder, user, run_on_commit)


def _direct_debit(org, user, run_on_commit):
    folder = FolderFactory(organization=org)
    _set(
        folder.customer,
        payment_method="direct_debit",
        iban="DE02120300000000202051",
        mandate_reference="MR-2026-0001",
        mandate_signed_on=dt.date(2026, 1, 15),
    )
    oneoff(folder, quantity="1", unit_price="799.00")
    return _oneoff_invoice(folder, user, run_on_commit)


def _consolidated(org, user, run_on_commit):
    customer = FolderFactory(organization=org).customer
    _set(customer, consolidate_invoices=True)
    first = customer.folders.get()
    second = FolderFactory(organization=org, customer=customer, name="Filiale Süd")
    recurring(first, unit_price="89.00")
    recurring(second, description="Telefonie-Flatrate", unit_price="29.90", quantity="12")
    run = bill(org, dt.date(2026, 12, 1))
    (invoice,) = invoices(org, run)
    assert len({line.source_folder_id for line in invoice.lines.all()}) == 2
    return invoice


def _prorated(org, user, run_on_commit):
    folder = FolderFactory(organization=org)
    recurring(folder, unit_price="90.00", start=dt.date(2026, 12, 10))
    run = bill(org, dt.date(2026, 12, 1))
    (invoice,) = invoices(org, run)
    line = invoice.lines.exclude(unit_price=None).first()
    assert line.service_start == dt.date(2026, 12, 10)
    assert line.unit_price != D("90.00")
    return invoice


def _xrechnung(org, user, run_on_commit):
    org.email = "rechnung@nordtek.example"
    org.phone = "+49301234567"
    org.save()
    folder = FolderFactory(organization=org)
    _set(
        folder.customer,
        einvoice_format="xrechnung_cii",
        buyer_reference=LEITWEG_ID,
        invoice_email="eingang@behoerde.example",
    )
    oneoff(folder, quantity="1", unit_price="640.00", discount="5")
    oneoff(folder, description="Schulung", quantity="3", unit_price="95.00", equipment=False, rate="7.00")
    return _oneoff_invoice(folder, user, run_on_commit)


def _xrechnung_direct_debit(org, user, run_on_commit):
    org.email = "rechnung@nordtek.example"
    org.phone = "+49301234567"
    org.save()
    folder = FolderFactory(organization=org)
    _set(
        folder.customer,
        einvoice_format="xrechnung_ubl",
        buyer_reference=LEITWEG_ID,
        invoice_email="eingang@behoerde.example",
        payment_method="direct_debit",
        iban="DE02120300000000202051",
        mandate_reference="MR-2026-0002",
        mandate_signed_on=dt.date(2026, 1, 15),
    )
    oneoff(folder, quantity="2", unit_price="320.00")
    return _oneoff_invoice(folder, user, run_on_commit)


CASES = {
    "domestic 19 % and 7 %": _domestic,
    "line discounts": _discounted,
    "reverse charge (AE)": _reverse_charge,
    "intra-EU supply (K)": _intra_eu_supply,
    "exempt (E)": _exempt,
    "export (G)": _export,
    "non-EU services (O)": _non_eu_services,
    "small business (E, § 19 UStG)": _small_business,
    "credit note (381)": _credit_note,
    "financier with delivery site": _financier,
    "direct debit": _direct_debit,
    "consolidated, several folders": _consolidated,
    "prorated line": _prorated,
    "XRechnung with Leitweg-ID": _xrechnung,
    "XRechnung UBL by direct debit": _xrechnung_direct_debit,
}


@pytest.fixture(params=list(CASES), ids=list(CASES))
def issued(request, org, admin_user, run_on_commit):
    return CASES[request.param](org, admin_user, run_on_commit)


def _xpath(tree, path: str) -> list:
    return tree.xpath(
        path,
        namespaces={
            "ram": RAM[1:-1],
            "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
            "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
            "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
        },
    )


def test_it_writes_valid_cii_and_ubl(issued):
    profile = "xrechnung" if issued.einvoice.get("buyer_reference") else "en16931"
    kind = "credit_note" if issued.kind == DocumentKind.CREDIT_NOTE else "invoice"
    for syntax in ("cii", "ubl"):
        assert_valid(einvoice.invoice_xml(issued, syntax, profile), syntax, profile, kind)


def test_its_numbers_equal_the_database_and_the_pdf(issued):
    sign = -1 if issued.kind == DocumentKind.CREDIT_NOTE else 1
    cii = etree.fromstring(einvoice.invoice_xml(issued, "cii"))
    summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    assert D(_xpath(cii, summation + "TaxBasisTotalAmount/text()")[0]) == sign * issued.total_net
    assert D(_xpath(cii, summation + "TaxTotalAmount/text()")[0]) == sign * issued.total_tax
    assert D(_xpath(cii, summation + "GrandTotalAmount/text()")[0]) == sign * issued.total_gross
    nets = [
        D(v)
        for v in _xpath(cii, "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount/text()")
    ]
    assert nets == [sign * line.net for line in issued.lines.exclude(unit_price=None)]
    by_rate: dict[Decimal, Decimal] = {}
    for tax in _xpath(cii, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"):
        # "Not subject to VAT" (O) has no rate: 0 % on paper.
        rate = D((_xpath(tax, "ram:RateApplicablePercent/text()") or ["0"])[0])
        by_rate[rate] = by_rate.get(rate, D(0)) + D(_xpath(tax, "ram:CalculatedAmount/text()")[0])
    assert by_rate == {D(g["rate"]): sign * D(g["tax"]) for g in issued.tax_breakdown}
    ubl = etree.fromstring(einvoice.invoice_xml(issued, "ubl"))
    assert D(_xpath(ubl, "//cac:LegalMonetaryTotal/cbc:PayableAmount/text()")[0]) == sign * issued.total_gross
    if not issued.pdf:
        # The billing run's invoices get their PDF from a task after commit.
        issued = render_and_store(issued)
    text = " ".join(pdf_text(issued).split())
    for amount in (issued.total_net, issued.total_gross):
        assert f"{amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".") in text


def test_it_names_the_tax_ground_of_each_category(org, admin_user, run_on_commit):
    xml = einvoice.invoice_xml(_reverse_charge(org, admin_user, run_on_commit), "cii")
    tree = etree.fromstring(xml)
    assert _xpath(
        tree, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode/text()"
    ) == ["AE"]
    assert "13b" in _xpath(tree, "//ram:ApplicableTradeTax/ram:ExemptionReason/text()")[0]
    assert _xpath(tree, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID/text()") == ["ATU13585627"]


def test_it_bills_the_financier_and_ships_to_the_end_customers_site(org, admin_user, run_on_commit):
    invoice = _financier(org, admin_user, run_on_commit)
    tree = etree.fromstring(einvoice.invoice_xml(invoice, "cii"))
    assert _xpath(tree, "//ram:BuyerTradeParty/ram:Name/text()") == ["GRENKE Leasing AG"]
    assert _xpath(tree, "//ram:ShipToTradeParty/ram:Name/text()") == ["Zentrale Lager"]
    assert _xpath(tree, "//ram:ShipToTradeParty//ram:LineOne/text()") == ["Lagerweg 5"]


def test_it_carries_the_direct_debit_mandate(org, admin_user, run_on_commit):
    invoice = _direct_debit(org, admin_user, run_on_commit)
    tree = etree.fromstring(einvoice.invoice_xml(invoice, "cii"))
    assert _xpath(tree, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode/text()") == ["59"]
    assert _xpath(tree, "//ram:DirectDebitMandateID/text()") == ["MR-2026-0001"]
    assert _xpath(tree, "//ram:CreditorReferenceID/text()") == ["DE98ZZZ09999999999"]
    assert _xpath(tree, "//ram:PayerPartyDebtorFinancialAccount/ram:IBANID/text()") == [
        "DE02120300000000202051"
    ]


def test_the_stored_pdf_is_zugferd_with_the_xml_embedded(org, admin_user, run_on_commit):
    invoice = _domestic(org, admin_user, run_on_commit)
    invoice.pdf.open("rb")
    data = invoice.pdf.read()
    invoice.pdf.close()
    reader = PdfReader(io.BytesIO(data))
    attachments = reader.attachments
    assert list(attachments) == ["factur-x.xml"]
    assert attachments["factur-x.xml"][0] == einvoice.invoice_xml(invoice, "cii")
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    af = reader.trailer["/Root"]["/AF"]
    assert len(af) == 1
    assert af[0].get_object()["/AFRelationship"] == "/Alternative"
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font)["/FontDescriptor"]
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_a_payer_on_pdf_only_gets_a_plain_pdf(org, admin_user, run_on_commit):
    folder = FolderFactory(organization=org)
    _set(folder.customer, einvoice_format="pdf_only", einvoice_consent_on=dt.date(2026, 1, 2))
    oneoff(folder, quantity="1", unit_price="100.00")
    invoice = _oneoff_invoice(folder, admin_user, run_on_commit)
    invoice.pdf.open("rb")
    reader = PdfReader(io.BytesIO(invoice.pdf.read()))
    invoice.pdf.close()
    assert not reader.attachments


def test_it_refuses_a_unit_without_a_rec20_code_at_issue(org, admin_user, run_on_commit):
    folder = FolderFactory(organization=org)
    line = oneoff(folder, quantity="1", unit_price="10.00", equipment=False)
    OneOffLine.objects.filter(pk=line.pk).update(unit="Karton")
    with pytest.raises(ValidationError) as refused:
        _oneoff_invoice(folder, admin_user, run_on_commit)
    assert "Karton" in refused.value.messages[0]
    assert not Document.objects.filter(kind=DocumentKind.INVOICE).exclude(number="").exists()


def test_it_refuses_xrechnung_without_a_valid_leitweg_id_at_issue(org, admin_user, run_on_commit):
    org.email, org.phone = "rechnung@nordtek.example", "+49301234567"
    org.save()
    folder = FolderFactory(organization=org)
    oneoff(folder, quantity="1", unit_price="10.00", equipment=False)
    Customer.objects.filter(pk=folder.customer_id).update(
        einvoice_format="xrechnung_ubl", buyer_reference="991-0"
    )
    with pytest.raises(ValidationError) as refused:
        _oneoff_invoice(folder, admin_user, run_on_commit)
    assert refused.value.code == "einvoice_leitweg_id"


def test_the_customer_form_checks_the_leitweg_id(org):
    customer = FolderFactory(organization=org).customer
    customer.einvoice_format = "xrechnung_cii"
    customer.buyer_reference = "04011000-1234512345-07"
    with pytest.raises(ValidationError) as refused:
        customer.full_clean()
    assert "buyer_reference" in refused.value.message_dict
    customer.buyer_reference = LEITWEG_ID
    customer.full_clean()


def test_the_rules_catch_a_wrong_total(org, admin_user, run_on_commit):
    """The validators are live: a total off by a cent is reported."""
    invoice = _domestic(org, admin_user, run_on_commit)
    xml = einvoice.invoice_xml(invoice, "cii")
    gross = f"{invoice.total_gross:.2f}"
    broken = xml.replace(
        f"<ram:GrandTotalAmount>{gross}</ram:GrandTotalAmount>".encode(),
        f"<ram:GrandTotalAmount>{invoice.total_gross + D('0.01'):.2f}</ram:GrandTotalAmount>".encode(),
    )
    assert broken != xml
    assert any(failure.startswith("BR-CO-15") for failure in rule_failures(broken, "cii", "en16931"))


@pytest.mark.slow
def test_bench_einvoice_times_xml_and_pdf_and_leaves_nothing_behind():
    import io as _io

    from django.core.management import call_command
    from django_scopes import scopes_disabled

    from organizations.models import Organization

    out = _io.StringIO()
    call_command("bench_einvoice", n=2, archive=3, stdout=out)
    text = out.getvalue()
    assert "CII XML + XSD:" in text and "ZUGFeRD PDF:" in text
    assert "Chorus Pro archive, 3 invoices, CII:" in text and "Chorus Pro archive, 3 invoices, UBL:" in text
    with scopes_disabled():
        assert not Organization.objects.filter(slug__startswith="bench-einvoice").exists()


def test_goods_and_services_abroad_share_one_valid_e_invoice(org, admin_user, run_on_commit):
    """ "Not subject to VAT" (O) must stand alone (BR-O-11): beside an export of goods the
    services abroad are stated as exempt (E) with their ground, § 3a (2) UStG."""
    folder = FolderFactory(organization=org)
    _set(folder.customer, country="CH", postal_code="8001", city="Zürich", tax_treatment="non_eu", vat_id="")
    oneoff(folder, quantity="1", unit_price="1450.00")
    line = oneoff(folder, description="Fernwartung", quantity="2", unit_price="85.00", equipment=False)
    OneOffLine.objects.filter(pk=line.pk).update(unit="hour")
    invoice = _oneoff_invoice(folder, admin_user, run_on_commit)
    for syntax in ("cii", "ubl"):
        assert_valid(einvoice.invoice_xml(invoice, syntax), syntax)
    tree = etree.fromstring(einvoice.invoice_xml(invoice, "cii"))
    path = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode/text()"
    assert sorted(_xpath(tree, path)) == ["E", "G"]
    assert any("3a" in reason for reason in _xpath(tree, "//ram:ExemptionReason/text()"))


def test_the_document_page_offers_the_xml_to_staff_only(client, org, admin_user, other_org, run_on_commit):
    from django.urls import reverse

    from tests.conftest import _member

    invoice = _xrechnung(org, admin_user, run_on_commit)
    client.force_login(admin_user)
    page = client.get(reverse("documents:detail", args=[invoice.pk]))
    assert reverse("documents:einvoice", args=[invoice.pk]) in page.content.decode()
    response = client.get(reverse("documents:einvoice", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert_valid(response.content, "cii", "xrechnung")
    ubl = client.get(reverse("documents:einvoice", args=[invoice.pk]) + "?syntax=ubl")
    assert_valid(ubl.content, "ubl", "xrechnung")
    assert client.get(reverse("documents:einvoice", args=[invoice.pk]) + "?syntax=pdf").status_code == 404
    outsider = _member(other_org, "admin", "outsider")
    client.force_login(outsider)
    assert client.get(reverse("documents:einvoice", args=[invoice.pk])).status_code == 404
