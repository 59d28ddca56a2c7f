"""UN/CEFACT Cross Industry Invoice (D16B), the syntax of ZUGFeRD/Factur-X and XRechnung
CII, profile EN 16931. Element order follows the Factur-X EN16931 XSD."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from documents.einvoice.data import Address, Invoice, Party

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}

EN16931 = "urn:cen.eu:en16931:2017"
XRECHNUNG = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
PEPPOL_BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
# "Not subject to VAT" carries no rate at all (BR-O-05, BR-O-09).
NOT_SUBJECT = "O"


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _number(value: Decimal) -> str:
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _el(parent, ns: str, tag: str, text: str | None = None, **attrs):
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", {k: v for k, v in attrs.items() if v})
    if text is not None:
        element.text = text
    return element


def _ram(parent, tag: str, text: str | None = None, **attrs):
    return _el(parent, RAM, tag, text, **attrs)


def _date(parent, tag: str, value, *, qualified: bool = False) -> None:
    holder = _ram(parent, tag)
    _el(holder, QDT if qualified else UDT, "DateTimeString", value.strftime("%Y%m%d"), format="102")


def _address(parent, address: Address) -> None:
    postal = _ram(parent, "PostalTradeAddress")
    if address.postal_code:
        _ram(postal, "PostcodeCode", address.postal_code)
    if address.street:
        _ram(postal, "LineOne", address.street)
    if address.city:
        _ram(postal, "CityName", address.city)
    _ram(postal, "CountryID", address.country or "DE")


def _party(parent, tag: str, party: Party, *, seller: bool) -> None:
    element = _ram(parent, tag)
    if party.identifier:
        _ram(element, "ID", party.identifier)
    _ram(element, "Name", party.name)
    if party.legal_id:
        legal = _ram(element, "SpecifiedLegalOrganization")
        _ram(legal, "ID", party.legal_id, schemeID=party.legal_scheme)
    if seller and (party.contact_name or party.phone or party.email):
        contact = _ram(element, "DefinedTradeContact")
        if party.contact_name:
            _ram(contact, "PersonName", party.contact_name)
        if party.phone:
            _ram(_ram(contact, "TelephoneUniversalCommunication"), "CompleteNumber", party.phone)
        if party.email:
            _ram(_ram(contact, "EmailURIUniversalCommunication"), "URIID", party.email)
    _address(element, party.address)
    if party.email:
        _ram(_ram(element, "URIUniversalCommunication"), "URIID", party.email, schemeID="EM")
    if party.vat_id:
        _ram(_ram(element, "SpecifiedTaxRegistration"), "ID", party.vat_id, schemeID="VA")
    if seller and party.tax_number:
        _ram(_ram(element, "SpecifiedTaxRegistration"), "ID", party.tax_number, schemeID="FC")


def _lines(transaction, invoice: Invoice) -> None:
    for line in invoice.lines:
        item = _ram(transaction, "IncludedSupplyChainTradeLineItem")
        _ram(_ram(item, "AssociatedDocumentLineDocument"), "LineID", str(line.position))
        product = _ram(item, "SpecifiedTradeProduct")
        if line.sku:
            _ram(product, "SellerAssignedID", line.sku)
        _ram(product, "Name", line.name)
        if line.description:
            _ram(product, "Description", line.description)
        agreement = _ram(item, "SpecifiedLineTradeAgreement")
        _ram(_ram(agreement, "NetPriceProductTradePrice"), "ChargeAmount", _number(line.unit_price))
        delivery = _ram(item, "SpecifiedLineTradeDelivery")
        _ram(delivery, "BilledQuantity", _number(line.quantity), unitCode=line.unit_code)
        settlement = _ram(item, "SpecifiedLineTradeSettlement")
        tax = _ram(settlement, "ApplicableTradeTax")
        _ram(tax, "TypeCode", "VAT")
        _ram(tax, "CategoryCode", line.category)
        if line.category != NOT_SUBJECT:
            _ram(tax, "RateApplicablePercent", _number(line.rate))
        if line.period_start and line.period_end:
            period = _ram(settlement, "BillingSpecifiedPeriod")
            _date(period, "StartDateTime", line.period_start)
            _date(period, "EndDateTime", line.period_end)
        if line.allowance:
            allowance = _ram(settlement, "SpecifiedTradeAllowanceCharge")
            _el(_ram(allowance, "ChargeIndicator"), UDT, "Indicator", "false")
            if line.discount_percent:
                _ram(allowance, "CalculationPercent", _number(line.discount_percent))
                _ram(allowance, "BasisAmount", _amount(line.base_amount))
            _ram(allowance, "ActualAmount", _amount(line.allowance))
            _ram(allowance, "ReasonCode", "95")
            _ram(allowance, "Reason", "Rabatt")
        summation = _ram(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
        _ram(summation, "LineTotalAmount", _amount(line.net))


def cii_tree(invoice: Invoice) -> etree._Element:
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = _el(root, RSM, "ExchangedDocumentContext")
    _ram(_ram(context, "BusinessProcessSpecifiedDocumentContextParameter"), "ID", PEPPOL_BILLING)
    _ram(
        _ram(context, "GuidelineSpecifiedDocumentContextParameter"),
        "ID",
        XRECHNUNG if invoice.xrechnung else EN16931,
    )
    header = _el(root, RSM, "ExchangedDocument")
    _ram(header, "ID", invoice.number)
    _ram(header, "TypeCode", invoice.type_code)
    _date(header, "IssueDateTime", invoice.issue_date)
    for note in invoice.notes:
        _ram(_ram(header, "IncludedNote"), "Content", note)

    transaction = _el(root, RSM, "SupplyChainTradeTransaction")
    _lines(transaction, invoice)

    agreement = _ram(transaction, "ApplicableHeaderTradeAgreement")
    if invoice.buyer_reference:
        _ram(agreement, "BuyerReference", invoice.buyer_reference)
    _party(agreement, "SellerTradeParty", invoice.seller, seller=True)
    _party(agreement, "BuyerTradeParty", invoice.buyer, seller=False)
    if invoice.order_reference:
        _ram(_ram(agreement, "BuyerOrderReferencedDocument"), "IssuerAssignedID", invoice.order_reference)

    delivery = _ram(transaction, "ApplicableHeaderTradeDelivery")
    if invoice.ship_to is not None:
        ship_to = _ram(delivery, "ShipToTradeParty")
        _ram(ship_to, "Name", invoice.ship_to.name)
        _address(ship_to, invoice.ship_to.address)
    if invoice.delivery_date:
        event = _ram(delivery, "ActualDeliverySupplyChainEvent")
        _date(event, "OccurrenceDateTime", invoice.delivery_date)

    settlement = _ram(transaction, "ApplicableHeaderTradeSettlement")
    payment = invoice.payment
    if payment.creditor_id:
        _ram(settlement, "CreditorReferenceID", payment.creditor_id)
    _ram(settlement, "PaymentReference", invoice.number)
    _ram(settlement, "InvoiceCurrencyCode", invoice.currency)
    means = _ram(settlement, "SpecifiedTradeSettlementPaymentMeans")
    _ram(means, "TypeCode", payment.means_code)
    if payment.debtor_iban:
        _ram(_ram(means, "PayerPartyDebtorFinancialAccount"), "IBANID", payment.debtor_iban)
    if payment.payee_iban:
        _ram(_ram(means, "PayeePartyCreditorFinancialAccount"), "IBANID", payment.payee_iban)
        if payment.payee_bic:
            _ram(_ram(means, "PayeeSpecifiedCreditorFinancialInstitution"), "BICID", payment.payee_bic)
    for group in invoice.tax_groups:
        tax = _ram(settlement, "ApplicableTradeTax")
        _ram(tax, "CalculatedAmount", _amount(group.amount))
        _ram(tax, "TypeCode", "VAT")
        if group.reason:
            _ram(tax, "ExemptionReason", group.reason)
        _ram(tax, "BasisAmount", _amount(group.basis))
        _ram(tax, "CategoryCode", group.category)
        if group.reason_code:
            _ram(tax, "ExemptionReasonCode", group.reason_code)
        if group.category != NOT_SUBJECT:
            _ram(tax, "RateApplicablePercent", _number(group.rate))
    if invoice.period_start and invoice.period_end:
        period = _ram(settlement, "BillingSpecifiedPeriod")
        _date(period, "StartDateTime", invoice.period_start)
        _date(period, "EndDateTime", invoice.period_end)
    if payment.terms or payment.due_date or payment.mandate_reference:
        terms = _ram(settlement, "SpecifiedTradePaymentTerms")
        if payment.terms:
            _ram(terms, "Description", payment.terms)
        if payment.due_date:
            _date(terms, "DueDateDateTime", payment.due_date)
        if payment.mandate_reference:
            _ram(terms, "DirectDebitMandateID", payment.mandate_reference)
    summation = _ram(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")
    _ram(summation, "LineTotalAmount", _amount(invoice.line_total))
    _ram(summation, "TaxBasisTotalAmount", _amount(invoice.tax_basis))
    _ram(summation, "TaxTotalAmount", _amount(invoice.tax_total), currencyID=invoice.currency)
    _ram(summation, "GrandTotalAmount", _amount(invoice.grand_total))
    _ram(summation, "DuePayableAmount", _amount(invoice.grand_total))
    if invoice.preceding_number:
        reference = _ram(settlement, "InvoiceReferencedDocument")
        _ram(reference, "IssuerAssignedID", invoice.preceding_number)
        if invoice.preceding_date:
            _date(reference, "FormattedIssueDateTime", invoice.preceding_date, qualified=True)
    return root


def cii_bytes(invoice: Invoice) -> bytes:
    return etree.tostring(cii_tree(invoice), xml_declaration=True, encoding="UTF-8", pretty_print=True)
