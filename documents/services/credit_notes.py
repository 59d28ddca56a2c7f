"""Credit notes: cancelling an invoice in full, crediting chosen lines or an amount, and
closing an invoice once its credit notes add up to it.

An issued invoice is never edited (GoBD): it is corrected by a credit note that references
it and reverses its tax exactly as it was charged. Never more is credited than is left
per tax rate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from catalog.models import Unit
from documents import texts
from documents.composition import LineSpec, contact_for, greeting_for
from documents.models import Document, DocumentKind, DocumentLine, DocumentStatus
from documents.selectors import credit_notes_of
from documents.services.drafts import document_audit, document_draft_create, document_issue
from documents.services.invoices import ACTIVE_INVOICE_STATUSES, invoice_cancellable, invoice_correctable
from documents.texts import join_lines
from folders import services as folder_services
from organizations.money import money
from organizations.system_texts import system_text

ZERO = Decimal("0.00")


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


def _lock_invoice(invoice: Document, *, refusal_of) -> Document:
    """The invoice re-read under a lock; refused with `refusal_of`'s reason, if it has one
    (it is no longer cancellable or correctable)."""
    invoice = Document.objects.select_for_update().get(pk=invoice.pk)
    refusal = refusal_of(invoice)
    if refusal is not None:
        raise refusal
    return invoice


def invoice_cancel(*, invoice: Document, user, reason: str) -> Document:
    """Cancel an issued invoice by a credit note that reverses it in full (GoBD: the
    invoice itself is never edited). Its folder lines become invoiceable again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give a reason for the cancellation."), code="no_reason")
    with transaction.atomic():
        invoice = _lock_invoice(invoice, refusal_of=invoice_cancellable)
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
    document_audit(invoice, user=user, action="invoice.cancelled", message=message, extra={"reason": reason})
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
        intro_text=join_lines(
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
        invoice = _lock_invoice(invoice, refusal_of=invoice_correctable)
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
        document_audit(
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
