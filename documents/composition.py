"""What documents are made of, read from folders, customers and the organization: snapshots,
salutation, lines from folder lines, the tax note and its checks, the payment text. Single
issuing, bulk issuing and the billing run build their documents from here alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from catalog.models import ProductKind, Unit
from customers.models import EMAIL_DELIVERY_METHODS, PaymentMethod, Salutation, TaxTreatment
from customers.selectors import invoice_recipient_emails
from documents import tax, texts
from documents.models import Document, DocumentKind, LineSource
from documents.selectors import financing_of
from documents.texts import join_lines, split_description
from folders.delivery import LineDelivery
from folders.models import Equipment, Folder, OneOffLine, RecurringLine


@dataclass(frozen=True, kw_only=True)
class LineSpec:
    """One line to put on a document (what callers hand to ``document_draft_create``).

    ``unit_price``/``tax_rate`` are None on delivery notes. ``cycle`` (months) marks a
    recurring charge on a quote; those are summed per cycle, apart from the one-off total.
    """

    description: str
    quantity: Decimal
    unit_price: Decimal | None = None
    tax_rate: Decimal | None = None
    discount_percent: Decimal = Decimal(0)
    unit: str = ""
    detail: str = ""
    sku: str = ""
    source_kind: str = LineSource.MANUAL
    source_line_id: int | None = None
    source_folder_id: int | None = None
    reverses_id: int | None = None
    cycle: int | None = None
    service_start: dt.date | None = None
    service_end: dt.date | None = None
    group_title: str = ""
    serial_number: str = ""
    model_number: str = ""
    warranty_end: dt.date | None = None
    goods: bool = False
    # On a quote: the financier pays this line (its own block, taxed as the financier is).
    financed: bool = False


# --- snapshots -----------------------------------------------------------------------


def issuer_snapshot(organization) -> dict:
    """The organization's legal data as printed on the document (§ 14 UStG, § 35a GmbHG)."""
    directors = [d.strip() for d in (organization.managing_directors or "").split(",") if d.strip()]
    return {
        "legal_name": organization.display_legal_name,
        "address_lines": list(organization.address_lines),
        "country": organization.country,
        "vat_id": organization.vat_id,
        "tax_number": organization.tax_number,
        "small_business": organization.small_business,
        "register_court": organization.register_court,
        "register_number": organization.register_number,
        # The seat of the company (§ 35a GmbHG): the city of its registered address.
        "seat": organization.city,
        "managing_directors": directors,
        "iban": organization.iban,
        "bic": organization.bic,
        "bank_name": organization.bank_name,
        "creditor_id": organization.creditor_id,
        "email": organization.email,
        "phone": organization.phone,
        "website": organization.website,
        # The logo file is read when the PDF is rendered (right after commit); the PDF
        # bytes and their hash are what is kept, so a later logo change alters nothing.
        "logo": organization.logo.name if organization.logo else "",
    }


def _contact_name(contact, language: str) -> str:
    if contact is None:
        return ""
    titles = {
        "de": {Salutation.MR: "Herr", Salutation.MS: "Frau"},
        "en": {Salutation.MR: "Mr", Salutation.MS: "Ms"},
    }[texts.lang_of(language)]
    parts = [titles.get(contact.salutation, ""), contact.first_name, contact.last_name]
    return " ".join(p for p in parts if p)


def contact_for(customer, *, invoice: bool):
    contacts = [c for c in customer.contacts.all() if c.is_active]
    if invoice:
        flagged = [c for c in contacts if c.is_invoice_recipient]
        return flagged[0] if flagged else None
    flagged = [c for c in contacts if c.is_invoice_recipient]
    return (flagged or contacts or [None])[0]


def recipient_snapshot(payer, *, invoice: bool) -> dict:
    """The payer's name, address and tax data as they are today (copied onto the document)."""
    language = texts.lang_of(payer.language)
    contact = contact_for(payer, invoice=invoice)
    return {
        "recipient_name": payer.name,
        "recipient_address": payer.postal_address(language),
        "recipient_vat_id": payer.vat_id,
        "recipient_tax_number": payer.tax_number,
        "recipient_customer_number": payer.number,
        "recipient_contact_name": _contact_name(contact, language),
        "recipient_email": ", ".join(invoice_recipient_emails(customer=payer))[:254],
        "language": language,
        "tax_treatment": payer.tax_treatment,
        "tax_exemption": payer.tax_exemption,
    }


def greeting_for(contact, language: str) -> str:
    """The letter's salutation: "Sehr geehrte Frau Weber," with a known contact."""
    if contact is None:
        return texts.text(language, "salutation")
    key = {Salutation.MR: "salutation_mr", Salutation.MS: "salutation_ms"}.get(contact.salutation)
    if key:
        return texts.text(language, key, name=contact.last_name)
    return texts.text(language, "salutation_named", name=f"{contact.first_name} {contact.last_name}".strip())


def default_intro(document: Document, greeting: str | None = None) -> str:
    lang = document.language
    if greeting is None:
        greeting = (
            texts.text(lang, "salutation_named", name=document.recipient_contact_name)
            if document.recipient_contact_name
            else texts.text(lang, "salutation")
        )
    if document.kind == DocumentKind.QUOTE:
        body = texts.text(lang, "intro_quote")
    elif document.kind == DocumentKind.INVOICE:
        body = texts.text(lang, "intro_invoice_financier" if document.leased_object else "intro_invoice")
    elif document.kind == DocumentKind.CREDIT_NOTE and document.cancels is not None:
        body = texts.text(
            lang,
            "intro_cancellation",
            number=document.cancels.number,
            date=texts.date(lang, document.cancels.issue_date),
        )
    elif document.kind == DocumentKind.DELIVERY_NOTE:
        body = texts.text(lang, "intro_delivery_note")
    else:
        body = ""
    return join_lines(greeting, body)


def folder_label_of(folder: Folder) -> str:
    return f"{folder.number} {folder.name}".strip()


def leased_object_for(folder: Folder, serials: Iterable[str]) -> dict:
    """What a financier needs to match the invoice to its lease (DESIGN.md section 4)."""
    financing = financing_of(folder)
    return {
        "end_customer": f"{folder.customer.name} ({folder.customer.number})",
        "folder": folder_label_of(folder),
        "delivery_address": list(folder.delivery_address_lines),
        "contract_reference": financing.contract_reference if financing else "",
        "serial_numbers": [s for s in serials if s],
    }


# --- tax note ----------------------------------------------------------------------------


def oneoff_is_goods(line: OneOffLine) -> bool:
    """Whether a one-off line is a supply of goods (not a service), for the tax note.

    Equipment is goods; so is whatever is sold by the piece (a catalog product or a free
    line: toner, a handbook, cabling material). Work sold by the hour or as a flat fee
    (installation, delivery and set-up), licences and lines are services.
    """
    if line.is_equipment:
        return True
    if line.product_id and line.product.kind != ProductKind.ONE_OFF:
        return False
    return line.unit == Unit.PIECE


def tax_note_for(document: Document, lines: Iterable) -> str:
    """The document's tax note from the payer's tax treatment and its priced lines (each
    with ``position``, ``unit_price``, ``goods``; credit note lines with ``reverses_id``).

    A credit note for an amount corrects the invoice as a whole and repeats its note.
    """
    if document.kind == DocumentKind.DELIVERY_NOTE:
        return ""
    priced = [line for line in lines if line.unit_price is not None]
    if (
        document.kind == DocumentKind.CREDIT_NOTE
        and document.cancels is not None
        and any(getattr(line, "reverses_id", None) is None for line in priced)
    ):
        return document.cancels.tax_note
    # A draft has no issuer snapshot yet: it shows the organization's VAT ID of today.
    issuer_vat_id = document.issuer.get("vat_id", "") if document.issuer else document.organization.vat_id
    small_business = issuer_small_business(document)
    own, financed = _split_financed(document, priced)
    note = texts.tax_note(
        document.language,
        tax.reasons_by_position(
            own,
            treatment=document.tax_treatment,
            exemption=document.tax_exemption,
            small_business=small_business,
        ),
        issuer_vat_id=issuer_vat_id,
        recipient_vat_id=document.recipient_vat_id,
    )
    if financed:
        # The financier's block of a quote is taxed as the financier's invoice will be, so
        # its reason is the financier's, with the financier's VAT ID.
        treatment, exemption = financed_recipient(document)
        header = document.financed_totals or {}
        financed_note = texts.tax_note(
            document.language,
            tax.reasons_by_position(
                financed, treatment=treatment, exemption=exemption, small_business=small_business
            ),
            issuer_vat_id=issuer_vat_id,
            recipient_vat_id=header.get("vat_id", ""),
        )
        if financed_note and small_business:
            note = note or financed_note
        elif financed_note:
            extra = texts.text(
                document.language,
                "financed_tax_note",
                financier=header.get("financier", ""),
                note=financed_note,
            )
            note = f"{note}\n{extra}" if note else extra
    if not note and document.cancels is not None:
        # An invoice issued before the reasons were named (the old "VAT exempt" without a
        # provision): its correction says what the invoice said.
        return document.cancels.tax_note
    return note


def check_tax_reasons(document: Document, lines: Iterable) -> None:
    """Refuse a document that would say "no VAT" without saying why (§ 14 (4) Nr. 8 UStG).

    A recipient whose treatment still needs review gets no document at all: the old
    "not VAT liable" tick named no reason, and guessing one is what the tax office fines.
    """
    if document.kind == DocumentKind.DELIVERY_NOTE:
        return
    if document.cancels_id is not None:
        # A correction reverses the invoice's tax exactly as it was charged, and repeats
        # its note (tax_note_for): refusing it would leave a wrong invoice uncorrectable.
        return
    own, financed = _split_financed(document, [line for line in lines if line.unit_price is not None])
    _check_reasons(
        name=document.recipient_name,
        treatment=document.tax_treatment,
        exemption=document.tax_exemption,
        small_business=issuer_small_business(document),
        priced=own,
    )
    if financed:
        treatment, exemption = financed_recipient(document)
        _check_reasons(
            name=(document.financed_totals or {}).get("financier", ""),
            treatment=treatment,
            exemption=exemption,
            small_business=issuer_small_business(document),
            priced=financed,
        )


def financed_recipient(document: Document) -> tuple[str, str]:
    """The tax treatment and exemption the financier's lines of a quote are taxed with: the
    financier's own, as its invoice will tax them, not the end customer's."""
    header = document.financed_totals or {}
    if header.get("tax_treatment"):
        return header["tax_treatment"], header.get("tax_exemption", "")
    return document.tax_treatment, document.tax_exemption


def _split_financed(document: Document, priced: list) -> tuple[list, list]:
    """A quote's own lines and the financier's (taxed by the financier's treatment)."""
    if document.kind != DocumentKind.QUOTE or not (document.financed_totals or {}).get("tax_treatment"):
        return priced, []
    return (
        [line for line in priced if not getattr(line, "financed", False)],
        [line for line in priced if getattr(line, "financed", False)],
    )


def issuer_small_business(document: Document) -> bool:
    """Whether the issuer charges no VAT as a small business (§ 19 UStG): as frozen in the
    issuer snapshot, or the organization's setting of today on a draft. A correction
    follows the invoice it corrects, whatever the status is today."""
    if document.cancels is not None:
        return bool(document.cancels.issuer.get("small_business"))
    if document.issuer:
        return bool(document.issuer.get("small_business"))
    return document.organization.small_business


def check_delivery_address(payer) -> None:
    """A payer who receives its documents by e-mail (the PDF attached, or a notification
    with the portal link) needs an address for them. Refused when the document is issued,
    with the fix named, so that the mail never fails later in the worker."""
    if payer.delivery_method not in EMAIL_DELIVERY_METHODS:
        return
    # The customer's own addresses answer without a query; the contacts only when needed.
    if payer.invoice_email or payer.email or invoice_recipient_emails(customer=payer):
        return
    raise ValidationError(
        _(
            "%(payer)s receives documents by e-mail but has no invoice e-mail address and no "
            "invoice-recipient contact (customer record)."
        )
        % {"payer": payer.name},
        code="no_recipient",
    )


def check_payer_tax(*, organization, payer, lines: Sequence[LineSpec] = ()) -> None:
    """`check_tax_reasons` before anything is written: for a payer and the lines its
    document would get (positions numbered as `line_values` numbers them)."""
    _check_reasons(
        name=payer.name,
        treatment=payer.tax_treatment,
        exemption=payer.tax_exemption,
        small_business=organization.small_business,
        priced=[
            _PricedSpec(position=position, tax_rate=spec.tax_rate, goods=spec.goods)
            for position, spec in enumerate(lines, start=1)
            if spec.unit_price is not None
        ],
    )


def _check_reasons(*, name: str, treatment: str, exemption: str, small_business: bool, priced) -> None:
    if treatment == TaxTreatment.NEEDS_REVIEW:
        raise ValidationError(needs_review_message(name), code="tax_treatment_needs_review")
    positions = tax.unexplained_zero_positions(
        priced, treatment=treatment, exemption=exemption, small_business=small_business
    )
    if positions:
        raise ValidationError(zero_rate_message(positions), code="zero_rate_without_reason")


@dataclass(frozen=True, kw_only=True)
class _PricedSpec:
    position: int
    tax_rate: Decimal | None
    goods: bool


def zero_rate_message(positions: Sequence[int]) -> str:
    return _(
        "Item %(positions)s has 0 %% VAT but no printed reason. Choose the customer's tax treatment "
        "(for a VAT-exempt customer with its § 4 UStG provision) or a taxed rate for the line."
    ) % {"positions": ", ".join(str(p) for p in positions)}


def needs_review_message(name: str) -> str:
    return _(
        "The tax treatment of %(name)s needs review: the old “not VAT liable” setting gave no legal reason. "
        "Choose the tax treatment in the customer's commercial information first."
    ) % {"name": name}


# --- payment text -----------------------------------------------------------------------


def payment_method_for(payer, folder: Folder | None) -> str:
    # The folder's override concerns the end customer's own payments; a financier pays
    # by its own terms.
    if folder is not None and folder.payment_method and folder.customer_id == payer.pk:
        return folder.payment_method
    return payer.payment_method


def payment_text_for(document: Document, payer) -> str:
    lang = document.language
    issuer = document.issuer
    if document.kind == DocumentKind.CREDIT_NOTE:
        return texts.text(lang, "payment_credit", amount=texts.eur(lang, abs(document.total_gross)))
    if document.kind != DocumentKind.INVOICE:
        return ""
    amount = texts.eur(lang, document.total_gross)
    due = texts.date(lang, document.due_date)
    if document.payment_method == PaymentMethod.DIRECT_DEBIT:
        return texts.text(
            lang,
            "payment_direct_debit",
            amount=amount,
            due=due,
            account=f"IBAN {texts.masked_iban(document.mandate_iban or payer.iban)}",
            mandate=document.mandate_reference,
            creditor_id=issuer.get("creditor_id", ""),
        )
    if issuer.get("iban"):
        bic = f", BIC {issuer['bic']}" if issuer.get("bic") else ""
        bank = f" ({issuer['bank_name']})" if issuer.get("bank_name") else ""
        return texts.text(
            lang,
            "payment_transfer",
            amount=amount,
            due=due,
            iban=texts.format_iban(issuer["iban"]),
            bic=bic + bank,
            number=document.number,
        )
    return texts.text(lang, "payment_transfer_no_bank", amount=amount, due=due, number=document.number)


# --- lines from folders --------------------------------------------------------------------


def oneoff_spec(
    line: OneOffLine, language: str, pieces: Sequence[Equipment], group_title: str = ""
) -> LineSpec:
    """A folder's one-off line as a document line; `pieces` give the serial numbers
    (an invoice names them, a quote does not: it sells the product, not the piece)."""
    title, rest = split_description(line.description)
    serials = [p.serial_number for p in pieces if p.serial_number]
    serial_text = ""
    if len(serials) == 1:
        serial_text = texts.text(language, "serial", serial=serials[0])
    elif serials:
        serial_text = texts.text(language, "serials", serials=", ".join(serials))
    return LineSpec(
        description=title,
        detail=join_lines(rest, serial_text),
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        discount_percent=line.discount_percent,
        goods=oneoff_is_goods(line),
        **_from_folder_line(line, LineSource.ONEOFF, group_title),
    )


def with_delivery(spec: LineSpec, delivery: LineDelivery, language: str, *, per_line: bool) -> LineSpec:
    """The one-off line's date of supply is its delivery (§ 14 Abs. 4 Nr. 6 UStG). With
    `per_line` (the invoice's lines were delivered on different days) the line says its
    own day or range, so each line's supply date can be read off the invoice."""
    if delivery.first is None:
        return spec
    if not per_line:
        return replace(spec, service_start=delivery.first, service_end=delivery.last)
    if delivery.first == delivery.last:
        when = texts.text(language, "delivered_on", date=texts.date(language, delivery.first))
    else:
        when = texts.text(
            language,
            "delivered_between",
            start=texts.date(language, delivery.first),
            end=texts.date(language, delivery.last),
        )
    return replace(
        spec, service_start=delivery.first, service_end=delivery.last, detail=join_lines(spec.detail, when)
    )


def _from_folder_line(line, source_kind: str, group_title: str) -> dict:
    """What every document line made from a folder line carries of it: tax rate, SKU,
    where it came from, and the group it is printed under."""
    return {
        "tax_rate": line.tax_rate.rate,
        "sku": line.product.sku if line.product_id else "",
        "source_kind": source_kind,
        "source_line_id": line.pk,
        "source_folder_id": line.folder_id,
        "group_title": group_title,
    }


def recurring_spec(line: RecurringLine, language: str, group_title: str) -> LineSpec:
    title, rest = split_description(line.description)
    cycle = texts.cycle_label(language, line.cycle)
    when = f"{cycle}, {texts.text(language, 'since', date=texts.date(language, line.start_date))}"
    # A setup fee is a priced one-off line of its own on the quote (setup_spec).
    return LineSpec(
        description=title,
        detail=join_lines(rest, when),
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        cycle=line.cycle,
        service_start=line.start_date,
        service_end=line.end_date,
        **_from_folder_line(line, LineSource.RECURRING, group_title),
    )


def setup_spec(line: RecurringLine, language: str, group_title: str) -> LineSpec:
    """A recurring line's setup fee as the priced one-off line it is: charged once, so it
    belongs to the one-off total, not to any cycle's."""
    title, _rest = split_description(line.description)
    return LineSpec(
        description=texts.text(language, "setup_line", title=title),
        quantity=Decimal(1),
        unit=Unit.FLAT,
        unit_price=line.setup_fee,
        **_from_folder_line(line, LineSource.RECURRING, group_title),
    )
