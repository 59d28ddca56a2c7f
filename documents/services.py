"""Every write to documents: drafts, issuing, sending, quote decisions, cancellations.

The one rule: issuing is one transaction that takes the number (organizations.numbering
locks the sequence row until commit), freezes recipient, issuer, lines and totals, writes
the audit entry (filed under the folder, so the folder's history lists every document)
and only *schedules* the PDF. The PDF is rendered after commit from the frozen data, so
the number lock is never held while WeasyPrint works, and a rolled-back issue gives its
number back (no gaps, GoBD).

Bad input raises ``ValidationError`` with a German (translated) message and a ``code``
*before* anything is written; since numbers are taken inside the same transaction,
a refusal never consumes a number either way.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from catalog.models import ProductKind, Unit
from customers.models import CustomerKind, PaymentMethod, Salutation, TaxTreatment
from customers.selectors import invoice_recipient_emails
from documents import einvoice, tax, texts
from documents.engine import LineInput, compute_totals, line_inputs, line_net
from documents.models import (
    Document,
    DocumentKind,
    DocumentLine,
    DocumentStatus,
    LineSource,
)
from documents.selectors import credit_notes_of, delivery_proof_for
from financing.payer import financier_invoice_refusal
from financing.services import payer_for
from folders import services as folder_services
from folders import terms as folder_terms
from folders.delivery import LineDelivery, oneoff_deliveries
from folders.models import Equipment, Folder, FolderStatus, OneOffLine, RecurringLine
from organizations.audit import audit_log
from organizations.models import AuditEntry
from organizations.money import money
from organizations.numbering import number_next, sequence_lock
from organizations.system_texts import system_text

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
DEFAULT_QUOTE_VALIDITY_DAYS = 30

# Statuses in which a document still "counts" (not replaced, not cancelled).
OPEN_QUOTE_STATUSES = (DocumentStatus.ISSUED, DocumentStatus.SENT)
REVISABLE_QUOTE_STATUSES = (*OPEN_QUOTE_STATUSES, DocumentStatus.DECLINED, DocumentStatus.ACCEPTED)
ACTIVE_INVOICE_STATUSES = (DocumentStatus.ISSUED, DocumentStatus.SENT)


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


def _financing(folder: Folder | None):
    if folder is None:
        return None
    try:
        return folder.financing
    except ObjectDoesNotExist:
        return None


def _split_description(text: str) -> tuple[str, str]:
    """Folder lines keep "name\\ndescription"; the first line is the printed title."""
    head, _sep, rest = (text or "").strip().partition("\n")
    return head.strip(), rest.strip()


def _join(*parts: str) -> str:
    return "\n".join(p for p in parts if p)


def folder_label_of(folder: Folder) -> str:
    return f"{folder.number} {folder.name}".strip()


def leased_object_for(folder: Folder, serials: Iterable[str]) -> dict:
    """What a financier needs to match the invoice to its lease (DESIGN.md section 4)."""
    financing = _financing(folder)
    return {
        "end_customer": f"{folder.customer.name} ({folder.customer.number})",
        "folder": folder_label_of(folder),
        "delivery_address": list(folder.delivery_address_lines),
        "contract_reference": financing.contract_reference if financing else "",
        "serial_numbers": [s for s in serials if s],
    }


# --- totals ----------------------------------------------------------------------------


def _breakdown(totals) -> list[dict]:
    return [
        {"rate": str(g.rate), "net": str(g.net), "tax": str(g.tax), "gross": str(g.gross)}
        for g in totals.groups
    ]


def _financed_recipient(document: Document) -> tuple[str, str]:
    """The tax treatment and exemption the financier's lines of a quote are taxed with: the
    financier's own, as its invoice will tax them, not the end customer's."""
    header = document.financed_totals or {}
    if header.get("tax_treatment"):
        return header["tax_treatment"], header.get("tax_exemption", "")
    return document.tax_treatment, document.tax_exemption


def apply_totals(document: Document, lines: Sequence[DocumentLine]) -> None:
    """Document totals from its lines (German way: VAT per rate on the sum of its nets).

    On a quote the recurring charges are summed per billing cycle, each cycle on its own
    (a monthly fee plus a yearly fee is no amount anybody pays), and kept apart from the
    one-off total. The document's total is the one-off total only: zero on a quote that
    sells nothing once (setup fees are one-off lines of their own). On the quote of a
    financed folder the financier's lines are summed apart (``financed_totals``), exactly
    as the financier's invoice sums them; the one-off total is then what the end
    customer pays once.
    """
    # The lines carry the rate documents.tax.line_tax gave them (line_values).
    priced = [line for line in lines if line.unit_price is not None]
    counted = priced
    recurring: dict[int, list[DocumentLine]] = defaultdict(list)
    financed: list[DocumentLine] = []
    if document.kind == DocumentKind.QUOTE:
        for line in priced:
            if line.cycle:
                recurring[line.cycle].append(line)
            elif line.financed:
                financed.append(line)
        counted = [line for line in priced if not line.cycle and not line.financed]
    header = {
        k: v
        for k, v in (document.financed_totals or {}).items()
        if k in ("financier", "tax_treatment", "tax_exemption", "vat_id")
    }
    if financed and header:
        sub = compute_totals(line_inputs(financed))
        document.financed_totals = {
            **header,
            "net": str(sub.net),
            "tax": str(sub.tax),
            "gross": str(sub.gross),
            "groups": _breakdown(sub),
        }
    else:
        document.financed_totals = {}
    totals = compute_totals(line_inputs(counted))
    document.total_net = totals.net
    document.total_tax = totals.tax
    document.total_gross = totals.gross
    document.tax_breakdown = _breakdown(totals)
    document.recurring_totals = []
    for cycle in sorted(recurring):
        sub = compute_totals(line_inputs(recurring[cycle]))
        document.recurring_totals.append(
            {
                "cycle": cycle,
                "net": str(sub.net),
                "tax": str(sub.tax),
                "gross": str(sub.gross),
                "groups": _breakdown(sub),
            }
        )


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
        treatment, exemption = _financed_recipient(document)
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
        treatment, exemption = _financed_recipient(document)
        _check_reasons(
            name=(document.financed_totals or {}).get("financier", ""),
            treatment=treatment,
            exemption=exemption,
            small_business=issuer_small_business(document),
            priced=financed,
        )


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


def check_payment_setup(*, organization, payer, method: str) -> None:
    if method != PaymentMethod.DIRECT_DEBIT:
        return
    if not (payer.iban and payer.mandate_reference):
        raise ValidationError(
            _("%(payer)s pays by SEPA direct debit, but no IBAN and mandate reference are on file.")
            % {"payer": payer.name},
            code="no_mandate",
        )
    if not organization.creditor_id:
        raise ValidationError(
            _("SEPA direct debit needs your organization's creditor identifier (organization settings)."),
            code="no_creditor_id",
        )


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
            account=f"IBAN {texts.masked_iban(payer.iban)}",
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


# --- the core: draft, then issue ---------------------------------------------------------


def require_address(payer, *, financier: bool) -> None:
    if payer.has_billing_address:
        return
    if financier:
        message = _(
            "The financier %(name)s has no billing address. Add street, postal code and city to the "
            "financier's customer record first."
        )
    else:
        message = _(
            "%(name)s has no billing address. Add street, postal code and city to the customer first."
        )
    raise ValidationError(message % {"name": payer.name}, code="no_billing_address")


def document_draft_create(
    *,
    organization,
    kind: str,
    user,
    customer,
    payer,
    lines: Sequence[LineSpec],
    folder: Folder | None = None,
    valid_until: dt.date | None = None,
    delivery_date: dt.date | None = None,
    service_start: dt.date | None = None,
    service_end: dt.date | None = None,
    intro_text: str | None = None,
    closing_text: str | None = None,
    terms_text: str = "",
    reason: str = "",
    delivery_address: Sequence[str] = (),
    recipient_address: Sequence[str] | None = None,
    leased_object: dict | None = None,
    financed_totals: dict | None = None,
    previous_version: Document | None = None,
    cancels: Document | None = None,
    cancellation: bool = False,
    billing_run_id: int | None = None,
    advance_invoice: bool = False,
) -> Document:
    """A draft document with its lines and totals: no number yet (a draft has none).

    Call ``document_issue`` to number and freeze it. Both may run in the caller's
    transaction (the billing run issues each payer's invoice in its own savepoint).
    """
    if kind not in DocumentKind.values:
        raise ValueError(f"unknown document kind {kind!r}")
    if not lines:
        raise ValidationError(_("A document needs at least one line."), code="no_lines")
    is_invoice = kind in (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE)
    recipient = recipient_snapshot(payer, invoice=is_invoice)
    if recipient_address is not None:
        # The address window is not the payer's address (a delivery note goes to the site).
        recipient["recipient_address"] = list(recipient_address)
    if cancels is not None:
        # A credit note reverses the invoice's tax exactly as it was charged.
        recipient["tax_treatment"] = cancels.tax_treatment
        recipient["tax_exemption"] = cancels.tax_exemption
        recipient["language"] = cancels.language
    lang = recipient["language"]
    document = Document(
        organization=organization,
        kind=kind,
        status=DocumentStatus.DRAFT,
        folder=folder,
        folder_label=folder_label_of(folder) if folder is not None else "",
        customer=customer,
        payer=payer,
        third_party=payer.pk != customer.pk,
        valid_until=valid_until,
        delivery_date=delivery_date,
        service_start=service_start,
        service_end=service_end,
        terms_text=terms_text,
        reason=reason,
        delivery_address=list(delivery_address),
        leased_object=leased_object or {},
        financed_totals=financed_totals or {},
        previous_version=previous_version,
        cancels=cancels,
        cancellation=cancellation,
        billing_run_id=billing_run_id,
        advance_invoice=advance_invoice,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        **recipient,
    )
    if kind == DocumentKind.INVOICE:
        document.payment_method = payment_method_for(payer, folder)
        if document.payment_method == PaymentMethod.DIRECT_DEBIT:
            document.mandate_reference = payer.mandate_reference
        document.payment_terms_days = payer.effective_payment_terms()
    if intro_text is None:
        greeting = greeting_for(contact_for(payer, invoice=is_invoice), lang)
        intro_text = default_intro(document, greeting)
        if advance_invoice:
            intro_text = f"{intro_text}\n\n{texts.text(lang, 'advance_note')}"
    document.intro_text = intro_text
    document.closing_text = (
        closing_text
        if closing_text is not None
        else texts.text(lang, "closing", issuer=organization.display_legal_name)
    )
    with transaction.atomic():
        document.full_clean(exclude=["pdf"])
        document.save()
        stored = _lines_create(document, lines)
        apply_totals(document, stored)
        document.tax_note = tax_note_for(document, stored)
        document.save(
            update_fields=[
                "total_net",
                "total_tax",
                "total_gross",
                "tax_breakdown",
                "recurring_totals",
                "financed_totals",
                "tax_note",
            ]
        )
    return document


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
    return _join(greeting, body)


def line_values(document: Document, specs: Sequence[LineSpec]) -> list[dict]:
    """The column values of the document's lines (without the document itself): positions
    in order, and each priced line's rate as documents.tax.line_tax decides it for the
    recipient (the tax note says why where it is no German VAT). On a financed quote the
    financier's lines are taxed as the financier's invoice will tax them. Single and bulk
    issuing both build lines here."""
    small_business = issuer_small_business(document)
    own = (document.tax_treatment, document.tax_exemption)
    financier = _financed_recipient(document)
    rows = []
    for position, spec in enumerate(specs, start=1):
        tax_rate = spec.tax_rate
        net = None
        if spec.unit_price is not None:
            treatment, exemption = financier if spec.financed else own
            tax_rate = tax.line_tax(
                treatment=treatment,
                rate=spec.tax_rate,
                goods=spec.goods,
                exemption=exemption,
                small_business=small_business,
            ).rate
            net = line_net(
                LineInput(
                    quantity=spec.quantity,
                    unit_price=spec.unit_price,
                    discount_percent=spec.discount_percent,
                    tax_rate=tax_rate,
                )
            )
        rows.append(
            {
                "organization_id": document.organization_id,
                "position": position,
                "source_kind": spec.source_kind,
                "source_line_id": spec.source_line_id,
                "source_folder_id": spec.source_folder_id,
                "reverses_id": spec.reverses_id,
                "sku": spec.sku,
                "description": spec.description,
                "detail": spec.detail,
                "quantity": spec.quantity,
                "unit": spec.unit,
                "unit_price": spec.unit_price,
                "discount_percent": spec.discount_percent,
                "tax_rate": tax_rate,
                "net": net,
                "cycle": spec.cycle,
                "service_start": spec.service_start,
                "service_end": spec.service_end,
                "group_title": spec.group_title,
                "serial_number": spec.serial_number,
                "model_number": spec.model_number,
                "warranty_end": spec.warranty_end,
                "goods": spec.goods,
                "financed": spec.financed,
            }
        )
    return rows


def _lines_create(document: Document, specs: Sequence[LineSpec]) -> list[DocumentLine]:
    rows = [DocumentLine(document=document, **values) for values in line_values(document, specs)]
    return DocumentLine.objects.bulk_create(rows)


NUMBER_KINDS = {
    DocumentKind.QUOTE: "quote",
    DocumentKind.INVOICE: "invoice",
    DocumentKind.CREDIT_NOTE: "credit_note",
    DocumentKind.DELIVERY_NOTE: "delivery_note",
}


# Kinds whose numbers and issue dates must ascend together (§ 14 UStG, GoBD: an auditor
# reads a later number with an earlier date as a back-dated invoice).
DATED_IN_ORDER = (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE)


def issue_date_in_order(*, organization, kind: str, wanted: dt.date) -> dt.date:
    """The issue date for documents of `kind` about to be numbered: `wanted`, unless a
    document of the kind is already dated later; then the day they are issued (today),
    or that later date if it lies ahead. Takes the number range lock first, so the answer
    holds until the caller's transaction has taken its numbers and committed: no other
    issuer can slip a later-dated document in between."""
    if kind not in DATED_IN_ORDER:
        return wanted
    day = wanted
    while True:
        # Again after moving the date: a later year may be a range of its own, with its
        # own lock and its own newest document.
        sequence_lock(organization=organization, kind=NUMBER_KINDS[kind], on=day)
        newest = (
            Document.objects.filter(organization=organization, kind=kind, issue_date__gt=day)
            .exclude(status=DocumentStatus.DRAFT)
            .aggregate(newest=Max("issue_date"))["newest"]
        )
        if newest is None:
            return day
        day = max(timezone.localdate(), newest)


def _audit_targets(document: Document) -> list:
    if document.folder_id:
        return [document.folder]
    folder_ids = sorted(
        {fid for fid in document.lines.values_list("source_folder_id", flat=True) if fid is not None}
    )
    return list(Folder.objects.filter(pk__in=folder_ids)) or [None]


def _audit(document: Document, *, user, action: str, message: str | dict, extra: dict | None = None) -> None:
    data = {
        "document_id": document.pk,
        "kind": document.kind,
        "number": document.number,
        "message": message,
        **(extra or {}),
    }
    for target in _audit_targets(document):
        audit_log(
            organization=document.organization,
            user=user,
            action=action,
            obj=document,
            target=target,
            data=data,
        )


def document_issue(*, document: Document, user, issue_date: dt.date | None = None) -> Document:
    """Number and freeze a draft: issuer snapshot, dates, payment text, totals, audit, PDF.

    The number is taken inside this transaction and the sequence row stays locked until
    it commits; the PDF task is scheduled on commit, so it never runs under the lock.
    """
    issue_date = issue_date or timezone.localdate()
    organization = document.organization
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        if not document.is_draft:
            raise ValidationError(
                _("%(document)s is already issued.") % {"document": document}, code="already_issued"
            )
        if document.kind in (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE) and not (
            organization.vat_id or organization.tax_number
        ):
            # § 14 (4) Nr. 2 UStG.
            raise ValidationError(
                _("Invoices need your organization's VAT ID or tax number (organization settings)."),
                code="no_issuer_tax_id",
            )
        payer = document.payer
        if document.kind == DocumentKind.INVOICE:
            check_payment_setup(organization=organization, payer=payer, method=document.payment_method)
        lines = list(document.lines.all())
        check_tax_reasons(document, lines)
        einvoice.check_einvoice(document, lines)
        issue_date = issue_date_in_order(organization=organization, kind=document.kind, wanted=issue_date)
        document.number = number_next(
            organization=organization, kind=NUMBER_KINDS[document.kind], on=issue_date
        )
        document.issue_date = issue_date
        document.issued_at = timezone.now()
        document.issuer = issuer_snapshot(organization)
        if document.kind == DocumentKind.INVOICE:
            document.due_date = issue_date + dt.timedelta(days=document.payment_terms_days or 0)
        apply_totals(document, lines)
        # Again on issuing: the VAT IDs printed are those of the issue date.
        document.tax_note = tax_note_for(document, lines)
        document.payment_text = payment_text_for(document, payer)
        document.status = DocumentStatus.ISSUED
        document.full_clean(exclude=["pdf"])
        document.save()
        _audit(
            document,
            user=user,
            action=f"{document.kind}.issued",
            message=issued_message(document),
            extra={"payer": document.recipient_name, "gross": str(document.total_gross)},
        )
        transaction.on_commit(lambda: schedule_pdf(document.pk, organization.pk))
    return document


def issued_message(document: Document) -> dict:
    """A system text (documents.system_texts): shown in the reader's language."""
    return system_text(
        "documents.issued",
        kind=document.kind,
        cancellation=document.cancellation,
        number=document.number,
        recipient=document.recipient_name,
    )


def schedule_pdf(document_id: int, organization_id: int) -> None:
    """Hand the PDF to the worker. In eager mode (the default) it renders right here; a
    rendering failure must not turn an issued document into a failed request, so it is
    logged and the document page offers to render it again."""
    from documents.tasks import render_document_pdf

    try:
        render_document_pdf.delay(document_id, organization_id)
    except Exception:  # noqa: BLE001
        logger.exception("PDF of document %s could not be rendered", document_id)


def document_discard(*, document: Document, user) -> None:
    """Throw away a draft (it never had a number, so nothing is lost)."""
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        if not document.is_draft:
            raise ValidationError(
                _("An issued document is never deleted; cancel an invoice with a credit note."),
                code="issued",
            )
        folder = document.folder
        label = system_text(
            "documents.discarded",
            kind=document.kind,
            cancellation=document.cancellation,
            number=document.number,
        )
        document.lines.all().delete()
        document.delete()
        if folder is not None:
            audit_log(
                organization=folder.organization,
                user=user,
                action=f"{document.kind}.draft_discarded",
                obj=folder,
                data={"message": label},
            )


# --- lines from folders --------------------------------------------------------------------


def _serials_by_line(lines: Sequence[OneOffLine]) -> dict[int, list[Equipment]]:
    pieces: dict[int, list[Equipment]] = defaultdict(list)
    for piece in Equipment.objects.filter(line__in=[line.pk for line in lines]).order_by("line_id", "piece"):
        pieces[piece.line_id].append(piece)
    return pieces


def oneoff_spec(
    line: OneOffLine, language: str, pieces: Sequence[Equipment], group_title: str = ""
) -> LineSpec:
    """A folder's one-off line as a document line; `pieces` give the serial numbers
    (an invoice names them, a quote does not: it sells the product, not the piece)."""
    title, rest = _split_description(line.description)
    serials = [p.serial_number for p in pieces if p.serial_number]
    serial_text = ""
    if len(serials) == 1:
        serial_text = texts.text(language, "serial", serial=serials[0])
    elif serials:
        serial_text = texts.text(language, "serials", serials=", ".join(serials))
    return LineSpec(
        description=title,
        detail=_join(rest, serial_text),
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
        spec, service_start=delivery.first, service_end=delivery.last, detail=_join(spec.detail, when)
    )


def awaiting_delivery_error(lines: Sequence[OneOffLine]) -> ValidationError:
    names = ", ".join(_split_description(line.description)[0] for line in lines)
    return ValidationError(
        _(
            "Awaiting delivery: %(lines)s. One-off lines are invoiced once they are delivered; issue the "
            "delivery note (or record the delivery date of every piece) first."
        )
        % {"lines": names},
        code="awaiting_delivery",
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
    title, rest = _split_description(line.description)
    cycle = texts.cycle_label(language, line.cycle)
    when = f"{cycle}, {texts.text(language, 'since', date=texts.date(language, line.start_date))}"
    # A setup fee is a priced one-off line of its own on the quote (_setup_spec).
    return LineSpec(
        description=title,
        detail=_join(rest, when),
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        cycle=line.cycle,
        service_start=line.start_date,
        service_end=line.end_date,
        **_from_folder_line(line, LineSource.RECURRING, group_title),
    )


def _setup_spec(line: RecurringLine, language: str, group_title: str) -> LineSpec:
    """A recurring line's setup fee as the priced one-off line it is: charged once, so it
    belongs to the one-off total, not to any cycle's."""
    title, _rest = _split_description(line.description)
    return LineSpec(
        description=texts.text(language, "setup_line", title=title),
        quantity=Decimal(1),
        unit=Unit.FLAT,
        unit_price=line.setup_fee,
        **_from_folder_line(line, LineSource.RECURRING, group_title),
    )


def _quote_lines(folder: Folder, language: str) -> tuple[list[LineSpec], dict]:
    """The quote's lines, per payer: first what a financier is invoiced (``payer_for``),
    under a heading that names it, then what the end customer pays once (setup fees and
    whatever is not financed), then per billing cycle. Also the financed block's header
    (the financier's name and tax treatment), empty when nothing is financed."""
    oneoffs = list(folder.oneoff_lines.select_related("tax_rate", "product").order_by("position", "id"))
    today = timezone.localdate()
    recurring = [
        line
        for line in folder.recurring_lines.select_related("tax_rate", "product").order_by("position", "id")
        if line.end_date is None or line.end_date >= today
    ]
    # A line taken over from an earlier billing system had its setup fee billed there.
    setups = [line for line in recurring if line.setup_fee and line.billed_elsewhere_through is None]
    for line in oneoffs:
        line.folder = folder
    payers = {line.pk: payer_for(line) for line in oneoffs}
    financed = [line for line in oneoffs if payers[line.pk].pk != folder.customer_id]
    own = [line for line in oneoffs if payers[line.pk].pk == folder.customer_id]
    financier = payers[financed[0].pk] if financed else None
    mixed = bool(own or setups) and bool(recurring)
    if financier is not None:
        mixed = mixed or bool(own or setups or recurring)
    oneoff_key = "group_oneoff_customer" if financier is not None else "group_oneoff"
    oneoff_title = texts.text(language, oneoff_key) if mixed else ""
    recurring_key = "group_recurring_customer" if financier is not None else "group_recurring"
    specs = []
    if financier is not None:
        financed_title = texts.text(language, "group_financed", financier=financier.name)[:200]
        specs += [
            replace(oneoff_spec(line, language, (), financed_title), financed=True) for line in financed
        ]
    specs += [oneoff_spec(line, language, (), oneoff_title) for line in own]
    specs += [_setup_spec(line, language, oneoff_title) for line in setups]
    for line in recurring:
        title = (
            texts.text(language, recurring_key, cycle=texts.cycle_label(language, line.cycle))
            if mixed
            else ""
        )
        specs.append(recurring_spec(line, language, title))
    header = {}
    if financier is not None:
        header = {
            "financier": financier.name,
            "tax_treatment": financier.tax_treatment,
            "tax_exemption": financier.tax_exemption,
            "vat_id": financier.vat_id,
        }
    return specs, header


# --- quotes ----------------------------------------------------------------------------------


def _quote_terms(folder: Folder, language: str, valid_until: dt.date, extra: str) -> str:
    parts = [texts.text(language, "quote_terms", valid_until=texts.date(language, valid_until))]
    if folder.minimum_term_months and folder.recurring_lines.exists():
        parts.append(texts.text(language, "quote_terms_min_term", months=folder.minimum_term_months))
    financing = _financing(folder)
    if financing is not None:
        parts.append(texts.text(language, "quote_financed", financier=financing.financier.name))
    if extra:
        parts.append(extra)
    return " ".join(parts)


def quote_create(
    *,
    folder: Folder,
    user,
    valid_until: dt.date | None = None,
    intro_text: str | None = None,
    terms: str = "",
    previous_version: Document | None = None,
) -> Document:
    """A draft quote for the END CUSTOMER listing the folder's one-off and recurring lines."""
    customer = folder.customer
    language = texts.lang_of(customer.language)
    lines, financed_header = _quote_lines(folder, language)
    if not lines:
        raise ValidationError(
            _("Folder %(folder)s has no lines yet. Add one-off or recurring lines before making a quote.")
            % {"folder": folder_label_of(folder)},
            code="nothing_to_quote",
        )
    valid_until = valid_until or timezone.localdate() + dt.timedelta(days=DEFAULT_QUOTE_VALIDITY_DAYS)
    if valid_until < timezone.localdate():
        raise ValidationError(_("The validity date cannot be in the past."), code="valid_until_past")
    draft = document_draft_create(
        organization=folder.organization,
        kind=DocumentKind.QUOTE,
        user=user,
        customer=customer,
        payer=customer,
        lines=lines,
        folder=folder,
        valid_until=valid_until,
        intro_text=intro_text or None,
        terms_text=_quote_terms(folder, language, valid_until, terms),
        financed_totals=financed_header,
        previous_version=previous_version,
    )
    _audit(
        draft,
        user=user,
        action="quote.draft_created",
        message=system_text("documents.quote_draft_saved", name=customer.name),
    )
    return draft


def _refresh_quote_lines(quote: Document) -> None:
    folder = quote.folder
    lines, financed_header = _quote_lines(folder, quote.language)
    if not lines:
        raise ValidationError(
            _("Folder %(folder)s has no lines yet. Add one-off or recurring lines before making a quote.")
            % {"folder": folder_label_of(folder)},
            code="nothing_to_quote",
        )
    quote.lines.all().delete()
    # Before the lines: they are taxed as the financier named here will be.
    quote.financed_totals = financed_header
    quote.save(update_fields=["financed_totals", "updated_at"])
    _lines_create(quote, lines)


def quote_issue(*, quote: Document, user, issue_date: dt.date | None = None) -> Document:
    """Number and freeze a draft quote, with the folder's lines as they are now."""
    if quote.kind != DocumentKind.QUOTE:
        raise ValidationError(_("This is not a quote."), code="not_a_quote")
    with transaction.atomic():
        if quote.folder_id and quote.is_draft:
            # A draft may be days old: issue it with the customer and folder as they are now.
            quote = Document.objects.select_for_update().get(pk=quote.pk)
            fields = recipient_snapshot(quote.payer, invoice=False)
            for name, value in fields.items():
                setattr(quote, name, value)
            quote.save(update_fields=[*fields, "updated_at"])
            _refresh_quote_lines(quote)
        return document_issue(document=quote, user=user, issue_date=issue_date)


def _check_quote_open(quote: Document, *, allowed=OPEN_QUOTE_STATUSES) -> None:
    if quote.kind != DocumentKind.QUOTE:
        raise ValidationError(_("This is not a quote."), code="not_a_quote")
    if quote.status not in allowed:
        raise ValidationError(
            _("Quote %(number)s is %(status)s; this is no longer possible.")
            % {"number": quote.display_number, "status": quote.get_status_display()},
            code="quote_closed",
        )


def quote_accept(*, quote: Document, user) -> Document:
    """The customer said yes: the quote is accepted and its folder activated (which turns
    a prospect into a customer)."""
    with transaction.atomic():
        quote = Document.objects.select_for_update().get(pk=quote.pk)
        _check_quote_open(quote)
        quote.status = DocumentStatus.ACCEPTED
        quote.decided_at = timezone.now()
        quote.save(update_fields=["status", "decided_at", "updated_at"])
        _audit(
            quote,
            user=user,
            action="quote.accepted",
            message=system_text("documents.quote_accepted", number=quote.number),
        )
        folder = quote.folder
        if folder is not None and folder.status == FolderStatus.DRAFT:
            folder_services.folder_activate(folder=folder, user=user)
    return quote


def quote_decline(*, quote: Document, user, reason: str = "") -> Document:
    with transaction.atomic():
        quote = Document.objects.select_for_update().get(pk=quote.pk)
        _check_quote_open(quote)
        quote.status = DocumentStatus.DECLINED
        quote.decided_at = timezone.now()
        quote.save(update_fields=["status", "decided_at", "updated_at"])
        _audit(
            quote,
            user=user,
            action="quote.declined",
            message=system_text("documents.quote_declined", number=quote.number),
            extra={"reason": reason} if reason else None,
        )
    return quote


def quote_revise(*, quote: Document, user, valid_until: dt.date | None = None) -> Document:
    """Issue a new version of a quote from the folder as it is now. The new quote has its
    own number and names the one it replaces; the old one becomes "superseded"."""
    with transaction.atomic():
        quote = Document.objects.select_for_update().get(pk=quote.pk)
        # An accepted quote is revised too when the folder changed after the customer said
        # yes: invoices follow the accepted quote, so the changed offer needs a new one.
        _check_quote_open(quote, allowed=REVISABLE_QUOTE_STATUSES)
        if quote.folder is None:
            raise ValidationError(_("Only quotes made from a folder can be revised."), code="no_folder")
        if valid_until is None and quote.valid_until and quote.issue_date:
            valid_until = timezone.localdate() + (quote.valid_until - quote.issue_date)
        draft = quote_create(folder=quote.folder, user=user, valid_until=valid_until, previous_version=quote)
        new = document_issue(document=draft, user=user)
        quote.status = DocumentStatus.SUPERSEDED
        quote.save(update_fields=["status", "updated_at"])
        _audit(
            quote,
            user=user,
            action="quote.superseded",
            message=system_text("documents.quote_superseded", old=quote.number, new=new.number),
        )
    return new


# --- invoices ----------------------------------------------------------------------------------


def accepted_quote_for(folder: Folder) -> Document | None:
    """The quote the customer accepted for this folder (the newest, if several): what a
    one-off invoice must repeat. A superseded version binds nobody."""
    return (
        Document.objects.filter(folder=folder, kind=DocumentKind.QUOTE, status=DocumentStatus.ACCEPTED)
        .order_by("-issue_date", "-id")
        .first()
    )


def _unaccepted_revision(folder: Folder) -> tuple[Document, Document] | None:
    """An open revision of a quote the customer had accepted, with that quote: the changed
    offer is not agreed yet (its previous version lost its "accepted" status by being
    superseded, so the audit trail tells that it was accepted)."""
    for quote in (
        Document.objects.filter(
            folder=folder,
            kind=DocumentKind.QUOTE,
            status__in=OPEN_QUOTE_STATUSES,
            previous_version__isnull=False,
        )
        .select_related("previous_version")
        .order_by("-issue_date", "-id")
    ):
        chain = []
        previous = quote.previous_version
        while previous is not None and len(chain) < 50:
            chain.append(previous)
            previous = previous.previous_version
        accepted = set(
            AuditEntry.objects.filter(
                organization=folder.organization,
                action="quote.accepted",
                data__document_id__in=[q.pk for q in chain],
            ).values_list("data__document_id", flat=True)
        )
        for earlier in chain:
            if earlier.pk in accepted:
                return quote, earlier
    return None


def _differs_from_quote(line: OneOffLine, quoted: DocumentLine) -> bool:
    title, rest = _split_description(line.description)
    return (
        (quoted.description, quoted.detail) != (title, rest)
        or quoted.quantity != line.quantity
        or quoted.unit_price != line.unit_price
        or quoted.discount_percent != line.discount_percent
    )


def check_financing_approved(financing, payer) -> None:
    """Refuse to invoice the financier (`payer`) before it approved the financing; the
    rule itself is financing's, so the folder page says the same."""
    refusal = financier_invoice_refusal(financing)
    if refusal is not None:
        raise refusal


def check_oneoff_lines_match_quote(*, folder: Folder, lines: Sequence[OneOffLine]) -> None:
    """Refuse to invoice one-off lines that are not what the customer accepted.

    Folder lines stay editable after the quote was accepted; an invoice that silently
    differs from the accepted quote (another price, quantity, discount or text, a line
    added or dropped) is what the customer would dispute. The way out is a revised quote
    that the customer accepts. Folders without an accepted quote are invoiced as they are.
    """
    quote = accepted_quote_for(folder)
    if quote is None:
        pending = _unaccepted_revision(folder)
        if pending is not None:
            revision, accepted = pending
            raise ValidationError(
                _(
                    "Quote %(number)s replaces the accepted quote %(previous)s and is not accepted yet. "
                    "Mark it accepted once the customer agrees, then invoice."
                )
                % {"number": revision.number, "previous": accepted.number},
                code="quote_not_accepted",
            )
        return
    quoted = {
        line.source_line_id: line
        for line in quote.lines.filter(source_kind=LineSource.ONEOFF).exclude(unit_price__isnull=True)
    }
    problems = []
    for line in lines:
        title = _split_description(line.description)[0]
        match = quoted.get(line.pk)
        if match is None:
            problems.append(_("%(line)s (not on the quote)") % {"line": title})
        elif _differs_from_quote(line, match):
            problems.append(_("%(line)s (changed since the quote)") % {"line": title})
    still_there = set(OneOffLine.objects.filter(folder=folder).values_list("pk", flat=True))
    for source_id, match in quoted.items():
        if source_id not in still_there:
            problems.append(_("%(line)s (no longer in the folder)") % {"line": match.description})
    if problems:
        raise ValidationError(
            _(
                "The one-off lines differ from the accepted quote %(number)s: %(lines)s. Revise the quote "
                "(the customer accepts the new version), then invoice."
            )
            % {"number": quote.number, "lines": "; ".join(problems)},
            code="differs_from_quote",
        )


@dataclass(frozen=True)
class OneOffPlan:
    """What "invoice one-off now" would invoice, once every rule let it through."""

    payer: object
    financed: bool
    lines: list[OneOffLine]
    pieces: dict[int, list[Equipment]]
    deliveries: dict[int, LineDelivery]
    advance: bool


def _oneoff_plan(folder: Folder, open_lines: Sequence[OneOffLine]) -> OneOffPlan:
    """Check the rules of "invoice one-off now" for the folder's not yet invoiced one-off
    lines and say what it would invoice; raise the reason when it cannot. The service
    runs it under its locks, the folder page (through `invoice_oneoff_refusal`) to show
    the button only when it can act."""
    if not open_lines:
        raise ValidationError(
            _("Folder %(folder)s has no one-off lines left to invoice.")
            % {"folder": folder_label_of(folder)},
            code="nothing_to_invoice",
        )
    lines = list(
        OneOffLine.objects.filter(pk__in=[line.pk for line in open_lines])
        .select_related("tax_rate", "product")
        .order_by("position", "id")
    )
    for line in lines:
        line.folder = folder
    payers = {payer_for(line) for line in lines}
    if len(payers) != 1:
        raise ValidationError(
            _("The one-off lines of this folder have different payers; invoice them separately."),
            code="mixed_payers",
        )
    payer = payers.pop()
    customer = folder.customer
    financing = _financing(folder)
    financed = payer.pk != customer.pk
    # Invoices follow an accepted quote: accepting it activates the folder and turns
    # the prospect into a customer. A financier is not invoiced for a prospect either.
    if customer.kind == CustomerKind.PROSPECT:
        raise ValidationError(
            _("%(name)s is still a prospect. Accept the quote (or convert the prospect) before invoicing.")
            % {"name": customer.name},
            code="prospect",
        )
    require_address(payer, financier=financed)
    if financed and financing is not None:
        check_financing_approved(financing, payer)
    pieces = _serials_by_line(lines)
    # Invoiced once delivered: a leasing company pays against the delivery. Only a
    # direct customer may get an advance invoice, and only where the organization
    # allows it; undelivered lines otherwise wait for a later invoice (as in the run).
    deliveries = oneoff_deliveries(lines, pieces)
    waiting = [line for line in lines if not deliveries[line.pk].delivered]
    advance = bool(waiting) and not financed and folder.organization.advance_invoices
    if waiting and not advance:
        lines = [line for line in lines if deliveries[line.pk].delivered]
        if not lines:
            raise awaiting_delivery_error(waiting)
    check_oneoff_lines_match_quote(folder=folder, lines=lines)
    return OneOffPlan(
        payer=payer, financed=financed, lines=lines, pieces=pieces, deliveries=deliveries, advance=advance
    )


def invoice_oneoff_refusal(folder: Folder) -> ValidationError | None:
    """Why "invoice one-off now" cannot act on the folder now (None: it can) - the same
    checks, in the same order, as the service itself."""
    open_lines = list(OneOffLine.objects.filter(folder=folder, invoice_document_id__isnull=True))
    try:
        _oneoff_plan(folder, open_lines)
    except ValidationError as exc:
        return exc
    return None


def invoice_oneoff_now(*, folder: Folder, user, issue_date: dt.date | None = None) -> Document:
    """ "Einmalig sofort in Rechnung stellen": invoice the folder's not yet invoiced one-off
    lines at once, to whoever ``payer_for`` names (the financier for a financed folder).

    The lines are locked, so a second click (or a second clerk) finds nothing left to
    invoice instead of billing them twice.
    """
    with transaction.atomic():
        folder = Folder.objects.select_for_update().select_related("customer").get(pk=folder.pk)
        open_lines = list(
            OneOffLine.objects.select_for_update()
            .filter(organization=folder.organization, folder=folder, invoice_document_id__isnull=True)
            .order_by("position", "id")
        )
        plan = _oneoff_plan(folder, open_lines)
        payer, financed, lines = plan.payer, plan.financed, plan.lines
        pieces, deliveries, advance = plan.pieces, plan.deliveries, plan.advance
        customer = folder.customer
        language = texts.lang_of(payer.language)
        days = {(d.first, d.last) for line in lines if (d := deliveries[line.pk]).first}
        specs = [
            with_delivery(
                oneoff_spec(line, language, pieces.get(line.pk, ())),
                deliveries[line.pk],
                language,
                per_line=len(days) > 1 or advance,
            )
            for line in lines
        ]
        if advance:
            # No date of supply yet: the delivery note will give it.
            service_start = service_end = None
        elif days:
            service_start, service_end = min(d[0] for d in days), max(d[1] for d in days)
        else:
            service_start = service_end = issue_date or timezone.localdate()
        serials = [p.serial_number for line in lines for p in pieces.get(line.pk, ())]
        draft = document_draft_create(
            organization=folder.organization,
            kind=DocumentKind.INVOICE,
            user=user,
            customer=customer,
            payer=payer,
            lines=specs,
            folder=folder,
            service_start=service_start,
            service_end=service_end,
            leased_object=leased_object_for(folder, serials) if financed else None,
            advance_invoice=advance,
        )
        invoice = document_issue(document=draft, user=user, issue_date=issue_date)
        folder_services.oneoff_lines_mark_invoiced(lines=lines, document=invoice, user=user)
    return invoice


# --- credit notes ---------------------------------------------------------------------------


# The rules below answer "may this be done now?" with None (yes) or the error the service
# raises (no, and why). Services raise it; the document page hides or disables the button
# with its message as the tooltip - one rule, so the page never offers what is refused.


def invoice_correctable(invoice: Document) -> ValidationError | None:
    """An invoice takes an invoice correction (a partial credit note) while it is issued
    and not cancelled."""
    if invoice.kind != DocumentKind.INVOICE:
        return ValidationError(_("Only invoices can be cancelled or credited."), code="not_an_invoice")
    if invoice.is_draft:
        return ValidationError(
            _("A draft has no number and is simply discarded, not cancelled."), code="draft"
        )
    if invoice.status == DocumentStatus.CANCELLED:
        return ValidationError(
            _("Invoice %(number)s is already cancelled.") % {"number": invoice.number},
            code="already_cancelled",
        )
    return None


def invoice_cancellable(invoice: Document) -> ValidationError | None:
    """An invoice is cancelled in full only while nothing of it is credited yet: after an
    invoice correction, a full reversal would credit those lines twice."""
    refusal = invoice_correctable(invoice)
    if refusal is not None:
        return refusal
    if credit_notes_of(invoice).exists():
        return ValidationError(
            _(
                "Invoice %(number)s already has invoice corrections. Correct the remaining lines or "
                "amount with another invoice correction instead; once they reach the invoice total, "
                "the invoice is cancelled."
            )
            % {"number": invoice.number},
            code="partially_credited",
        )
    return None


def _credited_net_by_rate(invoice: Document) -> dict[Decimal, Decimal]:
    """What credit notes took off the invoice, per tax rate: the lines that reverse one of
    its lines (a billing run's credit note may correct several invoices, line by line),
    and the other lines of credit notes referencing it (a credit for an amount)."""
    credited: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for line in (
        DocumentLine.objects.filter(document__kind=DocumentKind.CREDIT_NOTE)
        .filter(Q(reverses__document=invoice) | Q(reverses__isnull=True, document__cancels=invoice))
        .exclude(document__status=DocumentStatus.DRAFT)
    ):
        credited[money(line.tax_rate or 0)] += -(line.net or ZERO)
    return credited


def _invoice_net_by_rate(invoice: Document) -> dict[Decimal, Decimal]:
    return {money(Decimal(g["rate"])): Decimal(g["net"]) for g in invoice.tax_breakdown}


def _credit_note_specs(invoice_lines: Sequence[DocumentLine]) -> list[LineSpec]:
    return [
        LineSpec(
            description=line.description,
            detail=line.detail,
            quantity=-line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            tax_rate=line.tax_rate,
            sku=line.sku,
            source_kind=line.source_kind,
            source_line_id=line.source_line_id,
            source_folder_id=line.source_folder_id,
            reverses_id=line.pk,
            cycle=line.cycle,
            service_start=line.service_start,
            service_end=line.service_end,
            group_title=line.group_title,
            goods=line.goods,
        )
        for line in invoice_lines
        if line.unit_price is not None
    ]


def invoice_cancel(*, invoice: Document, user, reason: str) -> Document:
    """Cancel an issued invoice by a credit note that reverses it in full (GoBD: the
    invoice itself is never edited). Its folder lines become invoiceable again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give a reason for the cancellation."), code="no_reason")
    with transaction.atomic():
        invoice = Document.objects.select_for_update().get(pk=invoice.pk)
        refusal = invoice_cancellable(invoice)
        if refusal is not None:
            raise refusal
        specs = _credit_note_specs(list(invoice.lines.all()))
        credit = _credit_note_issue(invoice=invoice, user=user, specs=specs, reason=reason, full=True)
        _invoice_close(
            invoice,
            user=user,
            reason=reason,
            message=system_text("documents.invoice_cancelled", number=invoice.number, credit=credit.number),
        )
    return credit


def _invoice_close(invoice: Document, *, user, reason: str, message: dict) -> None:
    """Mark the invoice cancelled (audited) and release the folder lines it billed, so
    they can be invoiced again: after a cancellation or credits adding up to it."""
    invoice.status = DocumentStatus.CANCELLED
    invoice.save(update_fields=["status", "updated_at"])
    _audit(invoice, user=user, action="invoice.cancelled", message=message, extra={"reason": reason})
    folder_services.oneoff_lines_unmark_invoiced(document_id=invoice.pk, user=user)


def _credit_note_issue(*, invoice: Document, user, specs, reason: str, full: bool) -> Document:
    language = invoice.language
    draft = document_draft_create(
        organization=invoice.organization,
        kind=DocumentKind.CREDIT_NOTE,
        user=user,
        customer=invoice.customer,
        payer=invoice.payer,
        lines=specs,
        folder=invoice.folder,
        service_start=invoice.service_start,
        service_end=invoice.service_end,
        reason=reason,
        leased_object=invoice.leased_object or None,
        cancels=invoice,
        cancellation=full,
        intro_text=_join(
            greeting_for(contact_for(invoice.payer, invoice=True), language),
            texts.text(
                language,
                "intro_cancellation" if full else "intro_credit_note",
                number=invoice.number,
                date=texts.date(language, invoice.issue_date),
            ),
        ),
    )
    return document_issue(document=draft, user=user)


def credit_note_partial(
    *,
    invoice: Document,
    user,
    reason: str,
    line_ids: Sequence[int] | None = None,
    amount: Decimal | None = None,
    tax_rate: Decimal | None = None,
) -> Document:
    """A credit note for chosen invoice lines (reversed in full) or for a net amount at
    one of the invoice's tax rates. Never more than what is left to credit per rate."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give a reason for the credit note."), code="no_reason")
    if bool(line_ids) == (amount is not None):
        raise ValidationError(_("Choose either lines or an amount to credit."), code="lines_or_amount")
    with transaction.atomic():
        invoice = Document.objects.select_for_update().get(pk=invoice.pk)
        refusal = invoice_correctable(invoice)
        if refusal is not None:
            raise refusal
        language = invoice.language
        invoice_net = _invoice_net_by_rate(invoice)
        credited = _credited_net_by_rate(invoice)
        if line_ids:
            wanted = {int(pk) for pk in line_ids}
            chosen = list(invoice.lines.filter(pk__in=wanted).exclude(unit_price__isnull=True))
            if len(chosen) != len(wanted):
                raise ValidationError(_("Choose lines of this invoice."), code="unknown_lines")
            already = [line for line in chosen if line.reversals.exclude(document__status="draft").exists()]
            if already:
                raise ValidationError(
                    _("Already credited: %(lines)s.")
                    % {"lines": ", ".join(f"{ln.position}." for ln in already)},
                    code="already_credited",
                )
            specs = _credit_note_specs(chosen)
            adding: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
            for line in chosen:
                adding[money(line.tax_rate or 0)] += line.net or ZERO
        else:
            amount = money(amount)
            if amount <= 0:
                raise ValidationError(_("The amount must be greater than zero."), code="amount")
            rates = sorted(invoice_net, reverse=True)
            rate = money(tax_rate) if tax_rate is not None else (rates[0] if rates else ZERO)
            if rate not in invoice_net:
                raise ValidationError(_("Choose one of the invoice's tax rates."), code="tax_rate")
            specs = [
                LineSpec(
                    description=texts.text(language, "credit_amount_line", number=invoice.number),
                    detail=reason,
                    quantity=Decimal(-1),
                    unit=Unit.FLAT,
                    unit_price=amount,
                    tax_rate=rate,
                    source_folder_id=invoice.folder_id,
                )
            ]
            adding = {rate: amount}
        for rate, net in adding.items():
            remaining = invoice_net.get(rate, ZERO) - credited.get(rate, ZERO)
            if net > remaining:
                lang = texts.lang_of((get_language() or "de")[:2])
                raise ValidationError(
                    _("At most %(remaining)s net at %(rate)s VAT is left to credit on this invoice.")
                    % {"remaining": texts.eur(lang, remaining), "rate": texts.percent(lang, rate)},
                    code="too_much",
                )
        credit = _credit_note_issue(invoice=invoice, user=user, specs=specs, reason=reason, full=False)
        _audit(
            invoice,
            user=user,
            action="invoice.credited",
            message=system_text("documents.invoice_credited", credit=credit.number, number=invoice.number),
            extra={"reason": reason, "gross": str(credit.total_gross)},
        )
        if _fully_credited(invoice, invoice_net):
            _close_fully_credited(invoice, user=user, reason=reason)
    return credit


def invoice_close_if_credited(*, invoice: Document, user, reason: str) -> bool:
    """Close an invoice that credit notes made elsewhere (a billing run's) have credited
    in full, as a partial credit note reaching it would; True if it was closed."""
    with transaction.atomic():
        invoice = Document.objects.select_for_update().get(pk=invoice.pk)
        if invoice.kind != DocumentKind.INVOICE or invoice.status not in ACTIVE_INVOICE_STATUSES:
            return False
        if not _fully_credited(invoice, _invoice_net_by_rate(invoice)):
            return False
        _close_fully_credited(invoice, user=user, reason=reason)
    return True


def _fully_credited(invoice: Document, invoice_net: dict[Decimal, Decimal]) -> bool:
    """Whether the issued credit notes together reach the invoice: every rate's net is
    credited (and so its gross)."""
    credited = _credited_net_by_rate(invoice)
    if not invoice_net:
        return False
    return all(credited.get(rate, ZERO) >= net for rate, net in invoice_net.items())


def _close_fully_credited(invoice: Document, *, user, reason: str) -> None:
    """Partial credit notes that add up to the whole invoice cancel it, as a cancellation
    would: nothing is left to pay, and its folder lines can be invoiced again."""
    credits = list(credit_notes_of(invoice).order_by("id").values_list("number", flat=True))
    _invoice_close(
        invoice,
        user=user,
        reason=reason,
        message=system_text(
            "documents.invoice_credited_in_full", number=invoice.number, credits=list(credits)
        ),
    )


# --- delivery notes ------------------------------------------------------------------------------


def _warranty_end(piece: Equipment, delivery_date: dt.date) -> dt.date | None:
    """The piece's warranty end, or (like the folders app does on delivery) the delivery
    date plus the product's warranty months."""
    if piece.warranty_end:
        return piece.warranty_end
    product = piece.line.product if piece.line.product_id else None
    if product is not None and product.warranty_months:
        return folder_terms.term_end(delivery_date, product.warranty_months)
    return None


def _delivery_spec(piece: Equipment, folder: Folder, language: str, delivery_date: dt.date) -> LineSpec:
    line = piece.line
    title, _rest = _split_description(line.description)
    model = piece.model_number or (line.product.model_number if line.product_id else "")
    warranty = _warranty_end(piece, delivery_date)
    serial = (
        texts.text(language, "serial", serial=piece.serial_number)
        if piece.serial_number
        else texts.text(language, "no_serial")
    )
    detail = " · ".join(
        p
        for p in (
            texts.text(language, "model", model=model) if model else "",
            serial,
            texts.text(language, "warranty", date=texts.date(language, warranty)) if warranty else "",
        )
        if p
    )
    return LineSpec(
        description=title,
        detail=detail,
        quantity=Decimal(1),
        unit=Unit.PIECE,
        sku=line.product.sku if line.product_id else "",
        source_kind=LineSource.EQUIPMENT,
        source_line_id=piece.pk,
        source_folder_id=folder.pk,
        serial_number=piece.serial_number,
        model_number=model,
        warranty_end=warranty,
        service_start=delivery_date,
        service_end=delivery_date,
        goods=True,
    )


def delivery_window_for(folder: Folder) -> list[str]:
    """The delivery note's address window below the end customer's name: the site the goods
    go to (the note travels with them), its own name first when the site has one."""
    name, *address = folder.delivery_address_lines
    if name and name != folder.customer.name:
        address = [name, *address]
    return address


def delivered_piece_ids(organization, piece_ids=None) -> set[int]:
    """Pieces that are on an issued delivery note already (the record of a delivery; a
    delivery date typed into the folder alone is not one)."""
    qs = DocumentLine.objects.filter(
        organization=organization,
        source_kind=LineSource.EQUIPMENT,
        document__kind=DocumentKind.DELIVERY_NOTE,
    ).exclude(document__status=DocumentStatus.DRAFT)
    if piece_ids is not None:
        qs = qs.filter(source_line_id__in=list(piece_ids))
    return set(qs.values_list("source_line_id", flat=True))


def _mark_delivered(pieces: Sequence[Equipment], *, note: Document, delivery_date: dt.date, user) -> None:
    """Through the folders services: a line whose pieces are now all on delivery notes is
    marked with this one; pieces of a partly delivered line get their delivery date."""
    chosen: dict[int, list[Equipment]] = defaultdict(list)
    for piece in pieces:
        chosen[piece.line_id].append(piece)
    for line_id, line_pieces in chosen.items():
        line = line_pieces[0].line
        all_pieces = set(Equipment.objects.filter(line_id=line_id).values_list("pk", flat=True))
        if all_pieces <= delivered_piece_ids(note.organization, all_pieces):
            folder_services.oneoff_lines_mark_delivered(
                lines=[line], document=note, user=user, delivered_on=delivery_date
            )
        else:
            rows = [{"id": p.pk, "delivered_on": delivery_date} for p in line_pieces if not p.delivered_on]
            if rows:
                folder_services.equipment_update(line=line, user=user, rows=rows, confirm_duplicates=True)


def delivery_note_issue(
    *,
    folder: Folder,
    user,
    equipment_ids: Sequence[int],
    delivery_date: dt.date | None = None,
    issue_date: dt.date | None = None,
) -> Document:
    """A numbered delivery note for the chosen pieces (partial deliveries allowed), to the
    end customer's site, with product, model, serial number and warranty of each piece.
    The pieces are marked delivered in the same transaction."""
    wanted = []
    for pk in equipment_ids or ():
        try:
            wanted.append(int(pk))
        except (TypeError, ValueError):
            raise ValidationError(_("Unknown equipment."), code="unknown_equipment")
    if not wanted:
        raise ValidationError(_("Choose at least one piece of equipment to deliver."), code="no_equipment")
    delivery_date = delivery_date or timezone.localdate()
    with transaction.atomic():
        folder = Folder.objects.select_for_update().select_related("customer").get(pk=folder.pk)
        pieces = list(
            Equipment.objects.select_for_update()
            .filter(organization=folder.organization, line__folder=folder, pk__in=wanted)
            .order_by("line__position", "line_id", "piece")
        )
        if len(pieces) != len(set(wanted)):
            raise ValidationError(
                _("Some of the chosen equipment does not belong to folder %(folder)s.")
                % {"folder": folder_label_of(folder)},
                code="unknown_equipment",
            )
        pieces = list(
            Equipment.objects.filter(pk__in=[p.pk for p in pieces])
            .select_related("line", "line__product")
            .order_by("line__position", "line_id", "piece")
        )
        on_notes = delivered_piece_ids(folder.organization, [p.pk for p in pieces])
        delivered = [p for p in pieces if p.pk in on_notes]
        if delivered:
            raise ValidationError(
                _("Already delivered: %(pieces)s.")
                % {"pieces": ", ".join(p.serial_number or str(p.line) for p in delivered)},
                code="already_delivered",
            )
        customer = folder.customer
        language = texts.lang_of(customer.language)
        specs = [_delivery_spec(piece, folder, language, delivery_date) for piece in pieces]
        financed = _financing(folder) is not None
        draft = document_draft_create(
            organization=folder.organization,
            kind=DocumentKind.DELIVERY_NOTE,
            user=user,
            customer=customer,
            payer=customer,
            lines=specs,
            folder=folder,
            delivery_date=delivery_date,
            service_start=delivery_date,
            service_end=delivery_date,
            delivery_address=folder.delivery_address_lines,
            recipient_address=delivery_window_for(folder),
            leased_object=leased_object_for(folder, [p.serial_number for p in pieces]) if financed else None,
        )
        note = document_issue(document=draft, user=user, issue_date=issue_date)
        _mark_delivered(pieces, note=note, delivery_date=delivery_date, user=user)
    return note


# --- sending ---------------------------------------------------------------------------------------


def document_sendable(
    document: Document, *, recipients: Sequence[str] | None = None
) -> ValidationError | None:
    """A document is e-mailed once issued, while it is neither cancelled nor superseded,
    and only to someone: the given recipients or the payer's invoice addresses."""
    if document.is_draft:
        return ValidationError(_("Issue the document before sending it."), code="draft")
    if document.status in (DocumentStatus.CANCELLED, DocumentStatus.SUPERSEDED):
        return ValidationError(
            _("%(document)s is %(status)s and is not sent any more.")
            % {"document": document, "status": document.get_status_display()},
            code="closed",
        )
    if not [r for r in (recipients or invoice_recipient_emails(customer=document.payer)) if r]:
        return ValidationError(
            _("%(payer)s has no invoice e-mail address or invoice-recipient contact.")
            % {"payer": document.payer.name},
            code="no_recipient",
        )
    return None


def document_send(*, document: Document, user, recipients: Sequence[str] | None = None) -> Document:
    """E-mail the PDF to the payer (invoice e-mail and invoice-recipient contacts)."""
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        refusal = document_sendable(document, recipients=recipients)
        if refusal is not None:
            raise refusal
        to = [r for r in (recipients or invoice_recipient_emails(customer=document.payer)) if r]
        document.sent_at = timezone.now()
        if document.status == DocumentStatus.ISSUED:
            document.status = DocumentStatus.SENT
        document.save(update_fields=["status", "sent_at", "updated_at"])
        message = system_text(
            "documents.sent",
            kind=document.kind,
            cancellation=document.cancellation,
            number=document.number,
            to=to,
            notes=[note.number for note in delivery_proof_for(document)],
        )
        _audit(document, user=user, action=f"{document.kind}.sent", message=message)
        organization_id = document.organization_id
        pk = document.pk
        transaction.on_commit(lambda: _schedule_mail(pk, organization_id, list(to)))
    return document


def delivery_note_send_to_financier(*, document: Document, user) -> list[str]:
    """E-mail an issued delivery note to the folder's financier as proof of delivery (to
    its invoice recipients): a leasing company pays for the object once it was delivered.
    Filed in the document's history; returns the addresses."""
    with transaction.atomic():
        document = (
            Document.objects.select_for_update(of=("self",)).select_related("folder").get(pk=document.pk)
        )
        if document.kind != DocumentKind.DELIVERY_NOTE:
            raise ValidationError(
                _("Only a delivery note is sent to the financier as proof of delivery."),
                code="not_a_delivery_note",
            )
        if document.is_draft:
            raise ValidationError(_("Issue the document before sending it."), code="draft")
        financing = _financing(document.folder)
        if financing is None:
            raise ValidationError(
                _("Folder %(folder)s is not financed: there is no financier to send the delivery note to.")
                % {"folder": document.folder_label or "-"},
                code="not_financed",
            )
        financier = financing.financier
        to = invoice_recipient_emails(customer=financier)
        if not to:
            raise ValidationError(
                _(
                    "The financier %(name)s has no invoice e-mail address or invoice-recipient contact. "
                    "Add one to the financier's customer record first."
                )
                % {"name": financier.name},
                code="no_recipient",
            )
        _audit(
            document,
            user=user,
            action="delivery_note.sent_to_financier",
            message=system_text(
                "documents.sent_to_financier", number=document.number, financier=financier.name, to=list(to)
            ),
            extra={"financier_id": financier.pk},
        )
        language = texts.lang_of(financier.language)
        pk, organization_id = document.pk, document.organization_id
        transaction.on_commit(lambda: _schedule_delivery_proof(pk, organization_id, list(to), language))
    return to


def _schedule_delivery_proof(document_id: int, organization_id: int, to: list[str], language: str) -> None:
    from documents.tasks import send_delivery_proof_email

    send_delivery_proof_email.delay(document_id, organization_id, to, language)


def _schedule_mail(document_id: int, organization_id: int, to: list[str]) -> None:
    from documents.tasks import send_document_email

    send_document_email.delay(document_id, organization_id, to)


def document_render_again(*, document: Document, user) -> None:
    """Render a missing PDF (after a failed render). An existing PDF is never replaced."""
    if document.is_draft:
        raise ValidationError(_("Drafts have no PDF."), code="draft")
    if document.pdf:
        raise ValidationError(_("The PDF already exists and is never rendered again."), code="has_pdf")
    transaction.on_commit(lambda: schedule_pdf(document.pk, document.organization_id))
