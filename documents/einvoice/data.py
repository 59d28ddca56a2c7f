"""An issued invoice or credit note as EN 16931 sees it (the semantic model both syntaxes
write), read only from the frozen document: its snapshots, lines and totals.

Amounts follow EN 16931's sign convention: a credit note (381) states what is credited
as positive amounts, where our credit note stores them negative. The VAT breakdown is
per category and rate, each category's tax computed on the sum of its lines (the German
way, as documents.engine does), and equals the frozen totals to the cent.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from documents import tax, texts
from documents.einvoice import codes
from documents.models import Document, DocumentKind
from organizations.money import ZERO, money

XRECHNUNG_FORMATS = ("xrechnung_cii", "xrechnung_ubl")
# ISO 6523 ICD 0009: the French SIRET, by which Chorus Pro routes an invoice to a public buyer.
SIRET_SCHEME = "0009"
_POSTAL = re.compile(r"^(\S+)\s+(.+)$")


@dataclass(frozen=True)
class Address:
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "DE"


@dataclass(frozen=True)
class Party:
    name: str
    address: Address
    vat_id: str = ""
    tax_number: str = ""
    identifier: str = ""
    legal_id: str = ""
    # ISO 6523 scheme of legal_id (BT-30-1/BT-47-1); "0009" marks a French SIRET.
    legal_scheme: str = ""
    email: str = ""
    phone: str = ""
    contact_name: str = ""


@dataclass(frozen=True)
class Line:
    position: int
    name: str
    description: str
    sku: str
    quantity: Decimal
    unit_code: str
    unit_price: Decimal
    base_amount: Decimal
    allowance: Decimal
    discount_percent: Decimal
    net: Decimal
    category: str
    rate: Decimal
    period_start: dt.date | None = None
    period_end: dt.date | None = None


@dataclass(frozen=True)
class TaxGroup:
    category: str
    rate: Decimal
    basis: Decimal
    amount: Decimal
    reason: str = ""
    reason_code: str = ""


@dataclass(frozen=True)
class Payment:
    means_code: str
    payee_iban: str = ""
    payee_bic: str = ""
    debtor_iban: str = ""
    mandate_reference: str = ""
    creditor_id: str = ""
    terms: str = ""
    due_date: dt.date | None = None


@dataclass(frozen=True)
class Invoice:
    number: str
    type_code: str
    issue_date: dt.date
    currency: str
    buyer_reference: str
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    tax_groups: tuple[TaxGroup, ...]
    line_total: Decimal
    tax_basis: Decimal
    tax_total: Decimal
    grand_total: Decimal
    payment: Payment
    notes: tuple[str, ...] = ()
    ship_to: Party | None = None
    delivery_date: dt.date | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    preceding_number: str = ""
    preceding_date: dt.date | None = None
    # BT-13, the buyer's purchase order: a French public buyer's engagement number.
    order_reference: str = ""
    xrechnung: bool = False


def parse_address(lines, country: str) -> Address:
    """Street, postal code and city of a printed address (name lines first, then street,
    "postal code city", then a country name for addresses abroad)."""
    lines = [line for line in (lines or ()) if line]
    for index in range(len(lines) - 1, -1, -1):
        match = _POSTAL.match(lines[index])
        if match and any(ch.isdigit() for ch in match.group(1)):
            street = lines[index - 1] if index > 0 else ""
            return Address(street=street, postal_code=match.group(1), city=match.group(2), country=country)
    return Address(street=lines[-1] if lines else "", country=country)


def _address(snapshot: dict | None, fallback_lines, country: str) -> Address:
    if snapshot:
        return Address(
            street=snapshot.get("street", ""),
            postal_code=snapshot.get("postal_code", ""),
            city=snapshot.get("city", ""),
            country=snapshot.get("country") or country,
        )
    return parse_address(fallback_lines, country)


def _seller(document: Document, snapshot: dict, *, omit_vat_id: bool) -> Party:
    issuer = document.issuer or {}
    country = issuer.get("country") or "DE"
    return Party(
        name=issuer.get("legal_name", ""),
        address=_address(snapshot.get("seller"), issuer.get("address_lines"), country),
        vat_id="" if omit_vat_id else issuer.get("vat_id", ""),
        tax_number=issuer.get("tax_number", ""),
        legal_id=issuer.get("register_number", ""),
        email=issuer.get("email", ""),
        phone=issuer.get("phone", ""),
        contact_name=issuer.get("legal_name", ""),
    )


def _buyer(document: Document, snapshot: dict, *, omit_vat_id: bool) -> Party:
    buyer = snapshot.get("buyer") or {}
    email = buyer.get("email") or (document.recipient_email or "").split(",")[0].strip()
    siret = snapshot.get("siret") or ""
    return Party(
        name=document.recipient_name,
        address=_address(buyer or None, document.recipient_address, buyer.get("country") or "DE"),
        vat_id="" if omit_vat_id else document.recipient_vat_id,
        identifier=document.recipient_customer_number,
        legal_id=siret,
        legal_scheme=SIRET_SCHEME if siret else "",
        email=email,
        contact_name=document.recipient_contact_name,
    )


def _ship_to(document: Document, snapshot: dict) -> Party | None:
    ship_to = snapshot.get("ship_to")
    if not ship_to:
        return None
    return Party(name=ship_to.get("name", ""), address=_address(ship_to, (), ship_to.get("country") or "DE"))


def _lines(document: Document, sign: Decimal, reasons: dict[int, str], categories) -> tuple[Line, ...]:
    result = []
    for line in document.lines.all():
        if line.unit_price is None:
            continue
        quantity = line.quantity * sign
        price = line.unit_price
        net = (line.net or ZERO) * sign
        if price < 0:
            price, quantity = -price, -quantity
        base = money(quantity * price)
        allowance = base - net
        reason = reasons.get(line.position, "")
        category = codes.category_for(reason)
        if category not in categories:
            category = codes.EXEMPT
        rate = money(line.tax_rate or 0) if category == codes.STANDARD else ZERO
        name, _, rest = line.description.partition("\n")
        result.append(
            Line(
                position=line.position,
                name=name.strip() or line.description,
                description="\n".join(part for part in (rest.strip(), line.detail) if part),
                sku=line.sku,
                quantity=quantity,
                unit_code=codes.unit_code(line.unit) or "C62",
                unit_price=price,
                base_amount=base,
                allowance=allowance,
                discount_percent=line.discount_percent or ZERO,
                net=net,
                category=category,
                rate=rate,
                period_start=line.service_start,
                period_end=line.service_end,
            )
        )
    return tuple(result)


def _reason_text(document: Document, reason: str) -> str:
    key = texts.TAX_REASON_KEYS.get(reason)
    return texts.text(document.language, key) if key else ""


def _tax_groups(
    document: Document, lines: tuple[Line, ...], reason_by_category: dict
) -> tuple[TaxGroup, ...]:
    sums: dict[tuple[str, Decimal], Decimal] = {}
    for line in lines:
        key = (line.category, line.rate)
        sums[key] = sums.get(key, ZERO) + line.net
    groups = []
    for (category, rate), basis in sums.items():
        reason = reason_by_category.get(category, "")
        groups.append(
            TaxGroup(
                category=category,
                rate=rate,
                basis=basis,
                amount=money(basis * rate / 100),
                reason="" if category == codes.STANDARD else _reason_text(document, reason),
                reason_code=codes.VATEX_BY_CATEGORY.get(category, ""),
            )
        )
    return tuple(groups)


def _payment(document: Document, snapshot: dict) -> Payment:
    issuer = document.issuer or {}
    terms = document.payment_text or ""
    if document.kind == DocumentKind.CREDIT_NOTE:
        return Payment(means_code=codes.PAYMENT_NOT_DEFINED, terms=terms or document.title_label)
    if document.payment_method == "direct_debit" and document.mandate_reference:
        return Payment(
            means_code=codes.PAYMENT_SEPA_DIRECT_DEBIT,
            debtor_iban=snapshot.get("debtor_iban", ""),
            mandate_reference=document.mandate_reference,
            creditor_id=issuer.get("creditor_id", ""),
            terms=terms,
            due_date=document.due_date,
        )
    if document.payment_method in ("", "bank_transfer") and issuer.get("iban"):
        return Payment(
            means_code=codes.PAYMENT_SEPA_TRANSFER,
            payee_iban=issuer["iban"].replace(" ", ""),
            payee_bic=issuer.get("bic", ""),
            terms=terms,
            due_date=document.due_date,
        )
    return Payment(means_code=codes.PAYMENT_NOT_DEFINED, terms=terms, due_date=document.due_date)


def _notes(document: Document) -> tuple[str, ...]:
    notes = []
    if document.tax_note:
        notes.append(document.tax_note)
    lo = document.leased_object or {}
    if lo:
        parts = [
            lo.get("end_customer", ""),
            lo.get("folder", ""),
            ", ".join(lo.get("delivery_address") or ()),
        ]
        if lo.get("contract_reference"):
            parts.append(lo["contract_reference"])
        if lo.get("serial_numbers"):
            parts.append(", ".join(lo["serial_numbers"]))
        notes.append(" / ".join(part for part in parts if part))
    if document.reason:
        notes.append(document.reason)
    return tuple(notes)


def invoice_of(document: Document, *, xrechnung: bool = False) -> Invoice:
    """The EN 16931 view of an issued invoice or credit note."""
    if document.kind not in (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE) or document.is_draft:
        raise ValueError(f"{document} is no issued invoice or credit note")
    snapshot = document.einvoice or {}
    sign = Decimal(-1) if document.kind == DocumentKind.CREDIT_NOTE else Decimal(1)
    small_business = bool((document.issuer or {}).get("small_business"))
    priced = [line for line in document.lines.all() if line.unit_price is not None]
    reasons = {
        line.position: tax.line_tax(
            treatment=document.tax_treatment,
            rate=line.tax_rate,
            goods=line.goods,
            exemption=document.tax_exemption,
            small_business=small_business,
        ).reason
        for line in priced
    }
    reason_by_category = {codes.category_for(reason): reason for reason in reasons.values()}
    if "O" in reason_by_category and len(reason_by_category) > 1:
        # "Not subject to VAT" must stand alone on an invoice (BR-O-11); beside an export
        # of goods, services not taxable in Germany are stated as exempt with their ground.
        reason_by_category[codes.EXEMPT] = reason_by_category.pop("O")
    lines = _lines(document, sign, reasons, reason_by_category)
    groups = _tax_groups(document, lines, reason_by_category)
    omit_vat_id = "O" in reason_by_category
    line_total = sum((line.net for line in lines), ZERO)
    tax_total = sum((group.amount for group in groups), ZERO)
    ship_to = _ship_to(document, snapshot)
    buyer = _buyer(document, snapshot, omit_vat_id=omit_vat_id)
    if ship_to is None and "K" in reason_by_category:
        # An intra-Community supply names the country the goods went to (BR-IC-12).
        ship_to = Party(name=buyer.name, address=buyer.address)
    delivery_date = document.delivery_date
    if not (document.service_start or delivery_date or document.advance_invoice):
        delivery_date = document.issue_date
    preceding = document.cancels if document.cancels_id else None
    return Invoice(
        number=document.number,
        type_code=codes.CREDIT_NOTE if document.kind == DocumentKind.CREDIT_NOTE else codes.INVOICE,
        issue_date=document.issue_date,
        currency="EUR",
        # A French public buyer's service code routes the invoice inside the buyer (BT-10).
        buyer_reference=snapshot.get("buyer_reference")
        or snapshot.get("service_code")
        or document.recipient_customer_number
        or document.number,
        seller=_seller(document, snapshot, omit_vat_id=omit_vat_id),
        buyer=buyer,
        lines=lines,
        tax_groups=groups,
        line_total=line_total,
        tax_basis=line_total,
        tax_total=tax_total,
        grand_total=line_total + tax_total,
        payment=_payment(document, snapshot),
        notes=_notes(document),
        ship_to=ship_to,
        delivery_date=delivery_date,
        period_start=document.service_start if document.service_start and document.service_end else None,
        period_end=document.service_end if document.service_start and document.service_end else None,
        preceding_number=preceding.number if preceding else "",
        preceding_date=preceding.issue_date if preceding else None,
        order_reference=snapshot.get("engagement_number") or "",
        xrechnung=xrechnung,
    )
