"""OASIS UBL 2.1 Invoice / CreditNote, profile EN 16931 (XRechnung UBL). Element order
follows the UBL 2.1 XSD."""

from __future__ import annotations

from lxml import etree

from documents.einvoice import codes
from documents.einvoice.cii import EN16931, NOT_SUBJECT, PEPPOL_BILLING, XRECHNUNG, _amount, _number
from documents.einvoice.data import Address, Invoice, Party

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def _cac(parent, tag: str):
    return etree.SubElement(parent, f"{{{CAC}}}{tag}")


def _cbc(parent, tag: str, text: str, **attrs):
    element = etree.SubElement(parent, f"{{{CBC}}}{tag}", {k: v for k, v in attrs.items() if v})
    element.text = text
    return element


def _money(parent, tag: str, value, currency: str):
    return _cbc(parent, tag, _amount(value), currencyID=currency)


def _address(parent, tag: str, address: Address) -> None:
    element = _cac(parent, tag)
    if address.street:
        _cbc(element, "StreetName", address.street)
    if address.city:
        _cbc(element, "CityName", address.city)
    if address.postal_code:
        _cbc(element, "PostalZone", address.postal_code)
    _cbc(_cac(element, "Country"), "IdentificationCode", address.country or "DE")


def _party(parent, tag: str, party: Party, *, seller: bool, creditor_id: str = "") -> None:
    element = _cac(_cac(parent, tag), "Party")
    if party.email:
        _cbc(element, "EndpointID", party.email, schemeID="EM")
    if creditor_id:
        _cbc(_cac(element, "PartyIdentification"), "ID", creditor_id, schemeID="SEPA")
    if party.identifier:
        _cbc(_cac(element, "PartyIdentification"), "ID", party.identifier)
    _address(element, "PostalAddress", party.address)
    if party.vat_id:
        scheme = _cac(element, "PartyTaxScheme")
        _cbc(scheme, "CompanyID", party.vat_id)
        _cbc(_cac(scheme, "TaxScheme"), "ID", "VAT")
    if seller and party.tax_number:
        scheme = _cac(element, "PartyTaxScheme")
        _cbc(scheme, "CompanyID", party.tax_number)
        _cbc(_cac(scheme, "TaxScheme"), "ID", "FC")
    legal = _cac(element, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", party.name)
    if party.legal_id:
        _cbc(legal, "CompanyID", party.legal_id, schemeID=party.legal_scheme)
    if seller and (party.contact_name or party.phone or party.email):
        contact = _cac(element, "Contact")
        if party.contact_name:
            _cbc(contact, "Name", party.contact_name)
        if party.phone:
            _cbc(contact, "Telephone", party.phone)
        if party.email:
            _cbc(contact, "ElectronicMail", party.email)


def ubl_tree(invoice: Invoice) -> etree._Element:
    credit = invoice.type_code == codes.CREDIT_NOTE
    root_ns = CREDIT_NOTE_NS if credit else INVOICE_NS
    root = etree.Element(
        f"{{{root_ns}}}{'CreditNote' if credit else 'Invoice'}", nsmap={None: root_ns, "cac": CAC, "cbc": CBC}
    )
    currency = invoice.currency
    _cbc(root, "CustomizationID", XRECHNUNG if invoice.xrechnung else EN16931)
    _cbc(root, "ProfileID", PEPPOL_BILLING)
    _cbc(root, "ID", invoice.number)
    _cbc(root, "IssueDate", invoice.issue_date.isoformat())
    payment = invoice.payment
    if not credit and payment.due_date:
        _cbc(root, "DueDate", payment.due_date.isoformat())
    _cbc(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", invoice.type_code)
    for note in invoice.notes:
        _cbc(root, "Note", note)
    _cbc(root, "DocumentCurrencyCode", currency)
    if invoice.buyer_reference:
        _cbc(root, "BuyerReference", invoice.buyer_reference)
    if invoice.period_start and invoice.period_end:
        period = _cac(root, "InvoicePeriod")
        _cbc(period, "StartDate", invoice.period_start.isoformat())
        _cbc(period, "EndDate", invoice.period_end.isoformat())
    if invoice.order_reference:
        _cbc(_cac(root, "OrderReference"), "ID", invoice.order_reference)
    if invoice.preceding_number:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", invoice.preceding_number)
        if invoice.preceding_date:
            _cbc(reference, "IssueDate", invoice.preceding_date.isoformat())
    _party(root, "AccountingSupplierParty", invoice.seller, seller=True, creditor_id=payment.creditor_id)
    _party(root, "AccountingCustomerParty", invoice.buyer, seller=False)
    if invoice.ship_to is not None or invoice.delivery_date:
        delivery = _cac(root, "Delivery")
        if invoice.delivery_date:
            _cbc(delivery, "ActualDeliveryDate", invoice.delivery_date.isoformat())
        if invoice.ship_to is not None:
            _address(_cac(delivery, "DeliveryLocation"), "Address", invoice.ship_to.address)
            _cbc(_cac(_cac(delivery, "DeliveryParty"), "PartyName"), "Name", invoice.ship_to.name)
    means = _cac(root, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", payment.means_code)
    if credit and payment.due_date:
        _cbc(means, "PaymentDueDate", payment.due_date.isoformat())
    _cbc(means, "PaymentID", invoice.number)
    if payment.payee_iban:
        account = _cac(means, "PayeeFinancialAccount")
        _cbc(account, "ID", payment.payee_iban)
        if payment.payee_bic:
            _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", payment.payee_bic)
    if payment.mandate_reference:
        mandate = _cac(means, "PaymentMandate")
        _cbc(mandate, "ID", payment.mandate_reference)
        if payment.debtor_iban:
            _cbc(_cac(mandate, "PayerFinancialAccount"), "ID", payment.debtor_iban)
    if payment.terms:
        _cbc(_cac(root, "PaymentTerms"), "Note", payment.terms)
    tax_total = _cac(root, "TaxTotal")
    _money(tax_total, "TaxAmount", invoice.tax_total, currency)
    for group in invoice.tax_groups:
        subtotal = _cac(tax_total, "TaxSubtotal")
        _money(subtotal, "TaxableAmount", group.basis, currency)
        _money(subtotal, "TaxAmount", group.amount, currency)
        category = _cac(subtotal, "TaxCategory")
        _cbc(category, "ID", group.category)
        if group.category != NOT_SUBJECT:
            _cbc(category, "Percent", _number(group.rate))
        if group.reason_code:
            _cbc(category, "TaxExemptionReasonCode", group.reason_code)
        if group.reason:
            _cbc(category, "TaxExemptionReason", group.reason)
        _cbc(_cac(category, "TaxScheme"), "ID", "VAT")
    totals = _cac(root, "LegalMonetaryTotal")
    _money(totals, "LineExtensionAmount", invoice.line_total, currency)
    _money(totals, "TaxExclusiveAmount", invoice.tax_basis, currency)
    _money(totals, "TaxInclusiveAmount", invoice.grand_total, currency)
    _money(totals, "PayableAmount", invoice.grand_total, currency)
    for line in invoice.lines:
        element = _cac(root, "CreditNoteLine" if credit else "InvoiceLine")
        _cbc(element, "ID", str(line.position))
        _cbc(
            element,
            "CreditedQuantity" if credit else "InvoicedQuantity",
            _number(line.quantity),
            unitCode=line.unit_code,
        )
        _money(element, "LineExtensionAmount", line.net, currency)
        if line.period_start and line.period_end:
            period = _cac(element, "InvoicePeriod")
            _cbc(period, "StartDate", line.period_start.isoformat())
            _cbc(period, "EndDate", line.period_end.isoformat())
        if line.allowance:
            allowance = _cac(element, "AllowanceCharge")
            _cbc(allowance, "ChargeIndicator", "false")
            _cbc(allowance, "AllowanceChargeReasonCode", codes.ALLOWANCE_DISCOUNT)
            _cbc(allowance, "AllowanceChargeReason", "Rabatt")
            if line.discount_percent:
                _cbc(allowance, "MultiplierFactorNumeric", _number(line.discount_percent))
            _money(allowance, "Amount", line.allowance, currency)
            if line.discount_percent:
                _money(allowance, "BaseAmount", line.base_amount, currency)
        item = _cac(element, "Item")
        if line.description:
            _cbc(item, "Description", line.description)
        _cbc(item, "Name", line.name)
        if line.sku:
            _cbc(_cac(item, "SellersItemIdentification"), "ID", line.sku)
        category = _cac(item, "ClassifiedTaxCategory")
        _cbc(category, "ID", line.category)
        if line.category != NOT_SUBJECT:
            _cbc(category, "Percent", _number(line.rate))
        _cbc(_cac(category, "TaxScheme"), "ID", "VAT")
        price = _cac(element, "Price")
        _cbc(price, "PriceAmount", _number(line.unit_price), currencyID=currency)
    return root
