"""The three leasing scenarios of the seed (copier lease, PBX with financed hardware, MSP
rack), clicked through in a real browser: end customer, financier, folder with
serial-numbered equipment, financing approved, quote accepted, delivery note, invoice to
the financier. The invoice waits for the delivery, is dated on it and bills exactly the
quote's financed part; the delivery note lists every serial number at the site.

The catalog and the end customer's recurring services (with their setup fees, which stay
the end customer's) are set up through the ORM and services; everything the scenario is
about goes through the pages.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from playwright.sync_api import Error as PlaywrightError
from pypdf import PdfReader

from catalog.models import Product
from customers.models import Customer
from documents.models import Document, DocumentKind, DocumentStatus, LineSource
from financing.models import Financing
from folders import services as folder_services
from folders.models import Equipment, Folder, OneOffLine
from tests.catalog.factories import ProductFactory, standard_rate
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass(frozen=True)
class Item:
    name: str
    price: str
    quantity: int
    serial_prefix: str = ""  # equipment when set

    @property
    def serials(self) -> list[str]:
        return [f"{self.serial_prefix}{i:03}" for i in range(1, self.quantity + 1)]


@dataclass(frozen=True)
class Scenario:
    customer: str
    site: tuple[str, str, str]  # street, postal code, city of the installation
    financier: str
    folder: str
    term: int
    reference: str
    items: tuple[Item, ...]
    service: tuple[str, str, str]  # recurring line of the end customer: text, price, setup fee


SCENARIOS = {
    "copier-lease": Scenario(
        customer="Kanzlei Dr. Hoffmann & Partner",
        site=("Jungfernstieg 12", "20354", "Hamburg"),
        financier="GRENKE Leasing AG",
        folder="Leasing Kopierer",
        term=60,
        reference="GR-2026-4711",
        items=(
            Item("Kyocera TASKalfa 3554ci", "6490.00", 3, "W8K"),
            Item("Lieferung und Aufstellung", "149.00", 1),
        ),
        service=("Managed Print Service", "89.00", "0.00"),
    ),
    "pbx-hardware": Scenario(
        customer="Autohaus Schneider GmbH & Co. KG",
        site=("Industriestraße 4", "28199", "Bremen"),
        financier="BNP Paribas Leasing Solutions",
        folder="TK-Anlage",
        term=48,
        reference="BNP-88-1020",
        items=(
            Item("Unify OpenScape Business X5", "3480.00", 1, "OSBX5-"),
            Item("OpenScape Desk Phone CP400", "289.00", 4, "CP400-"),
        ),
        service=("Servicevertrag Telefonanlage", "79.00", "149.00"),
    ),
    "msp-rack": Scenario(
        customer="Neumann Medizintechnik AG",
        site=("Am Klinikum 3", "24105", "Kiel"),
        financier="Deutsche Leasing AG",
        folder="Serverraum",
        term=36,
        reference="DL-2026-0815",
        items=(
            Item("Dell PowerEdge R750", "8950.00", 3, "DELL-"),
            Item("Synology RS3621xs+", "4120.00", 2, "SYN-"),
            Item("Cisco C1000-24P", "690.00", 2, "CSC-"),
            Item("APC SRT 3000", "1480.00", 2, "APC-"),
        ),
        service=("Server-Monitoring", "117.00", "250.00"),
    ),
}


def _accept(dialog) -> None:
    """Confirm a "really?" dialog; one the page already closed (it navigated on) is fine."""
    with contextlib.suppress(PlaywrightError):
        dialog.accept()


def _click(page, selector: str) -> None:
    """Click a button that posts a form and wait for the page it leads to (not for the
    network to go quiet, which costs half a second per step)."""
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator(selector).first.click()


def _submit(page) -> None:
    _click(page, "#content form button[type=submit].btn-primary")


def _create_customer(page, name: str, street: str, postal_code: str, city: str, *, financier=False):
    page.goto(f"{page.base_url}/customers/new/")
    page.fill("[name=name]", name)
    page.fill("[name=street]", street)
    page.fill("[name=postal_code]", postal_code)
    page.fill("[name=city]", city)
    # Invoices go out by e-mail (the default), so the customer needs an address for them.
    page.fill("[name=email]", f"rechnung@{postal_code}.example")
    if financier:
        page.check("[name=is_financier]")
    _submit(page)
    return Customer.objects.get(name=name)


def _pdf_text(document: Document) -> str:
    document.refresh_from_db()
    with document.pdf.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _message(page) -> str:
    return page.locator("#messages").inner_text()


@pytest.mark.parametrize("key", list(SCENARIOS))
def test_a_financed_deal_is_invoiced_to_the_financier_after_delivery(page, org, admin_user, key):
    scenario = SCENARIOS[key]
    for item in scenario.items:
        ProductFactory(
            organization=org,
            name=item.name,
            description="",
            unit_price=Decimal(item.price),
            unit="piece" if item.serial_prefix else "flat",
            is_equipment=bool(item.serial_prefix),
        )
    login(page, "admin")
    base = page.base_url

    # The end customer and the financier: one record each, the financier flagged.
    customer = _create_customer(page, scenario.customer, "Hauptstraße 1", "20095", "Hamburg")
    financier = _create_customer(
        page, scenario.financier, "Neuer Markt 2", "76532", "Baden-Baden", financier=True
    )
    assert financier.is_financier and not customer.is_financier

    # The folder, under the end customer, installed at its site.
    page.goto(f"{base}/folders/new/{customer.pk}/")
    page.fill("[name=name]", scenario.folder)
    street, postal_code, city = scenario.site
    page.fill("[name=delivery_street]", street)
    page.fill("[name=delivery_postal_code]", postal_code)
    page.fill("[name=delivery_city]", city)
    _submit(page)
    folder = Folder.objects.get(customer=customer, name=scenario.folder)

    # The one-off lines from the catalog; serial numbers pasted as from a scanner.
    for item in scenario.items:
        product = Product.objects.get(organization=org, name=item.name)
        page.goto(f"{base}/folders/{folder.pk}/oneoff/new/?product={product.pk}")
        page.fill("[name=quantity]", str(item.quantity))
        _submit(page)
        line = OneOffLine.objects.get(folder=folder, product=product)
        if item.serial_prefix:
            page.goto(f"{base}/folders/{folder.pk}/oneoff/{line.pk}/pieces/")
            page.fill("[name=paste-serials]", "\n".join(item.serials))
            _submit(page)
    serials = [s for item in scenario.items for s in item.serials if item.serial_prefix]
    assert sorted(
        Equipment.objects.filter(line__folder=folder).values_list("serial_number", flat=True)
    ) == sorted(serials)
    # The end customer's own service, with a setup fee (not financed).
    text, price, setup_fee = scenario.service
    folder_services.recurring_line_add(
        folder=folder,
        user=admin_user,
        data={
            "description": text,
            "quantity": Decimal("1"),
            "unit": "month",
            "unit_price": Decimal(price),
            "setup_fee": Decimal(setup_fee),
            "cycle": 1,
            "start_date": dt.date.today(),
            "tax_rate": standard_rate(org),
        },
    )

    # The financing, approved.
    page.goto(f"{base}/financing/folder/{folder.pk}/")
    page.select_option("[name=financier]", str(financier.pk))
    page.fill("[name=lease_term_months]", str(scenario.term))
    page.fill("[name=contract_reference]", scenario.reference)
    page.select_option("[name=approval_status]", "approved")
    _submit(page)
    financing = Financing.objects.get(folder=folder)
    assert (financing.financier, financing.approval_status) == (financier, "approved")

    # The quote to the end customer, accepted.
    page.on("dialog", _accept)
    page.goto(f"{base}/documents/folder/{folder.pk}/quote/")
    page.fill("[name=valid_until]", (dt.date.today() + dt.timedelta(days=30)).isoformat())
    _click(page, "button[name=action][value=issue]")
    quote = Document.objects.get(folder=folder, kind=DocumentKind.QUOTE)
    assert quote.payer == customer
    _click(page, "form[action$='/accept/'] button")
    quote.refresh_from_db()
    assert quote.status == DocumentStatus.ACCEPTED

    # Before the delivery the financier is not invoiced: the button is disabled and says why.
    page.goto(f"{base}/folders/{folder.pk}/")
    assert page.locator("form[action$='/invoice-oneoff/']").count() == 0
    titles = page.locator("span[data-bs-toggle=tooltip]:has(button:disabled)").evaluate_all(
        "spans => spans.map(s => s.getAttribute('title') || s.getAttribute('data-bs-original-title'))"
    )
    assert any("Wartet auf Lieferung" in (title or "") for title in titles), titles
    assert not Document.objects.filter(folder=folder, kind=DocumentKind.INVOICE).exists()

    # The delivery note: every piece, delivered two days ago.
    delivered = dt.date.today() - dt.timedelta(days=2)
    page.goto(f"{base}/documents/folder/{folder.pk}/delivery-note/")
    for checkbox in page.locator("input[name=equipment]").all():
        checkbox.check()
    page.fill("[name=delivery_date]", delivered.isoformat())
    _submit(page)
    note = Document.objects.get(folder=folder, kind=DocumentKind.DELIVERY_NOTE)
    assert sorted(note.lines.values_list("serial_number", flat=True)) == sorted(serials)
    assert note.delivery_address == [scenario.customer, street, f"{postal_code} {city}"]
    note_text = _pdf_text(note)
    assert all(serial in note_text for serial in serials)
    assert street in note_text and f"{postal_code} {city}" in note_text

    # Now the hardware invoice goes to the financier, dated on the delivery.
    page.goto(f"{base}/folders/{folder.pk}/")
    _click(page, "form[action$='/invoice-oneoff/'] button")
    invoice = Document.objects.get(folder=folder, kind=DocumentKind.INVOICE)
    assert f"/documents/{invoice.pk}/" in page.url
    assert (invoice.payer, invoice.customer) == (financier, customer)
    assert (invoice.service_start, invoice.service_end) == (delivered, delivered)
    financed_part = sum(
        (line.net for line in quote.lines.filter(source_kind=LineSource.ONEOFF)), start=Decimal("0.00")
    )
    expected = sum((Decimal(i.price) * i.quantity for i in scenario.items), start=Decimal("0.00"))
    assert invoice.total_net == financed_part == expected
    invoice_text = _pdf_text(invoice)
    assert f"Leistungsdatum {delivered:%d.%m.%Y}" in invoice_text
    assert scenario.reference in invoice_text and scenario.financier in invoice_text
    assert text not in invoice_text  # the service stays the end customer's

    # The contract the invoice was issued under stays as invoiced.
    page.goto(f"{base}/financing/folder/{folder.pk}/")
    page.fill("[name=contract_reference]", "GEÄNDERT-1")
    _submit(page)
    error = page.locator(".invalid-feedback", has_text=invoice.number)
    assert error.count() == 1 and "stornieren" in error.inner_text()
    financing.refresh_from_db()
    assert financing.contract_reference == scenario.reference
