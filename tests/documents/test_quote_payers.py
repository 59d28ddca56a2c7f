"""The quote says per payer what each will be invoiced: the financed block of an accepted
quote is, line by line and to the cent, the financier's invoice; setup fees and whatever
else the end customer pays once stand in a block of their own, as do the cycles."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from documents import services
from documents.models import Document, DocumentKind, DocumentStatus
from folders.models import Folder
from organizations.models import Organization
from tests.documents.conftest import pdf_text
from tests.documents.factories import FolderFactory, deliver, finance, financier, oneoff, recurring

pytestmark = pytest.mark.django_db


def _normalized(text: str) -> str:
    return " ".join(text.split())


def _line(line):
    return (line.description, line.quantity, line.unit_price, line.discount_percent, line.tax_rate, line.net)


def _financed_block(quote: Document) -> tuple[list, tuple]:
    lines = [_line(line) for line in quote.lines.filter(financed=True).order_by("position")]
    block = quote.financed_totals
    totals = (Decimal(block["net"]), Decimal(block["tax"]), Decimal(block["gross"]), block["groups"])
    return lines, totals


def _invoiced(invoice: Document) -> tuple[list, tuple]:
    lines = [_line(line) for line in invoice.lines.order_by("position")]
    return lines, (invoice.total_net, invoice.total_tax, invoice.total_gross, invoice.tax_breakdown)


def _accepted_quote(folder, user, run_on_commit) -> Document:
    quote = run_on_commit(
        services.quote_issue, quote=services.quote_create(folder=folder, user=user), user=user
    )
    return services.quote_accept(quote=quote, user=user)


def test_it_prints_the_financiers_block_apart_from_the_setup_fee_the_customer_pays(
    financed_folder, admin_user, run_on_commit
):
    service = financed_folder.recurring_lines.get()
    service.setup_fee = Decimal("99.00")
    service.save()
    quote = _accepted_quote(financed_folder, admin_user, run_on_commit)
    quote.refresh_from_db()
    deliver(financed_folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=financed_folder, user=admin_user)

    assert _financed_block(quote) == _invoiced(invoice)
    # The setup fee is the end customer's: 99,00 + 19 % = 117,81 once.
    assert (quote.total_net, quote.total_gross) == (Decimal("99.00"), Decimal("117.81"))
    text = _normalized(pdf_text(quote))
    assert "Finanziert durch GRENKE Leasing AG (wird dort in Rechnung gestellt)" in text
    assert "Gesamtbetrag an GRENKE Leasing AG 10.492,83 €" in text
    assert "Von Ihnen einmalig zu zahlen Nettobetrag 99,00 € zzgl. 19 % USt auf 99,00 € 18,81 €" in text
    assert "Gesamtbetrag einmalig 117,81 €" in text
    assert "Gesamtbetrag monatlich 105,91 €" in text
    # The two payers' amounts are never added up on the quote (10.610,64 €).
    assert "10.610,64" not in text
    invoice_text = _normalized(pdf_text(invoice))
    assert "Gesamtbetrag 10.492,83 €" in invoice_text and "Einrichtung" not in invoice_text


def test_the_quote_page_and_list_show_the_financiers_block_apart(
    financed_folder, admin_user, admin_client, run_on_commit
):
    quote = _accepted_quote(financed_folder, admin_user, run_on_commit)
    page = " ".join(admin_client.get(reverse("documents:detail", args=[quote.pk])).content.decode().split())
    assert "Finanziert durch GRENKE Leasing AG (wird dort in Rechnung gestellt)" in page
    assert "10.492,83 €" in page
    listing = " ".join(admin_client.get(reverse("documents:quotes")).content.decode().split())
    assert "+ finanziert 10.492,83 €" in listing


def test_a_quote_without_financing_keeps_its_one_off_total(direct_folder, admin_user, run_on_commit):
    quote = _accepted_quote(direct_folder, admin_user, run_on_commit)
    quote.refresh_from_db()
    assert quote.financed_totals == {}
    assert not quote.lines.filter(financed=True).exists()
    assert quote.total_gross == Decimal("731.01")  # 569,70 + 19 % and 49,60 + 7 %


def test_the_financed_block_is_taxed_as_the_financiers_invoice(org, admin_user, run_on_commit):
    folder = FolderFactory(organization=org)
    oneoff(folder, quantity="1", unit_price="1000.00", equipment=False)
    leasing_nl = financier(
        org,
        name="Lease Plan Nederland B.V.",
        country="NL",
        vat_id="NL810433941B01",
        tax_treatment="eu_reverse_charge",
    )
    finance(folder, leasing_nl)
    quote = _accepted_quote(folder, admin_user, run_on_commit)
    quote.refresh_from_db()
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    assert invoice.total_tax == 0
    assert _financed_block(quote) == _invoiced(invoice)
    # The quote names the financier's legal ground for its block, with its VAT ID.
    text = _normalized(pdf_text(quote))
    assert "Für die an Lease Plan Nederland B.V. berechneten Positionen:" in text
    assert "NL810433941B01" in text


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)
one_off = st.tuples(
    st.decimals(min_value=Decimal("0.5"), max_value=Decimal("40"), places=1),
    money,
    st.sampled_from(["19.00", "7.00"]),
    st.sampled_from(["0", "5", "12.5", "100"]),
)
service = st.tuples(money, st.sampled_from([1, 3, 12]), st.one_of(st.just(Decimal(0)), money))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(oneoffs=st.lists(one_off, min_size=1, max_size=6), services_=st.lists(service, max_size=3))
def test_the_financed_block_of_any_accepted_quote_is_the_financiers_invoice(
    org, admin_user, grenke, run_on_commit, oneoffs, services_
):
    folder = FolderFactory(organization=org)
    for index, (quantity, price, rate, discount) in enumerate(oneoffs):
        oneoff(
            folder,
            description=f"Gerät {index}",
            quantity=str(quantity),
            unit_price=str(price),
            rate=rate,
            discount=discount,
            equipment=False,
        )
    for price, cycle, setup in services_:
        line = recurring(folder, unit_price=str(price), cycle=cycle)
        line.setup_fee = setup
        line.save()
    finance(folder, grenke)
    quote = _accepted_quote(folder, admin_user, run_on_commit)
    quote.refresh_from_db()
    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    assert invoice.payer == grenke
    assert _financed_block(quote) == _invoiced(invoice)
    setups = sum((setup for _p, _c, setup in services_), Decimal(0))
    assert quote.total_net == setups


@pytest.mark.slow
def test_every_financed_demo_folders_quote_shows_the_financiers_invoice(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", only="nordtek", stdout=io.StringIO())
    org = Organization.objects.get(slug="nordtek")
    compared = 0
    for folder in Folder.objects.filter(organization=org, financing__isnull=False):
        quote = services.accepted_quote_for(folder)
        invoices = Document.objects.filter(
            folder=folder, kind=DocumentKind.INVOICE, third_party=True, payer=folder.financing.financier
        ).exclude(status__in=[DocumentStatus.DRAFT, DocumentStatus.CANCELLED])
        if quote is None or len(invoices) != 1:
            continue
        assert quote.financed_totals["financier"] == folder.financing.financier.name
        assert _financed_block(quote) == _invoiced(invoices[0]), folder
        compared += 1
    assert compared >= 2
