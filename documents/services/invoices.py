"""One-off invoices ("invoice one-off now"), and the rules that say when a folder's one-off
lines may be invoiced and when an invoice may be corrected or cancelled.

One-off lines are invoiced to whoever ``payer_for`` names, once delivered (or in advance
where the organization allows it), and only as the customer accepted them in the quote.
The billing run checks the same rules (billing.planning) before it bills a folder.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import CustomerKind
from documents import texts
from documents.composition import folder_label_of, leased_object_for, oneoff_spec, with_delivery
from documents.models import Document, DocumentKind, DocumentLine, DocumentStatus, LineSource
from documents.selectors import credit_notes_of, financing_of
from documents.services.drafts import document_draft_create, document_issue
from documents.services.quotes import OPEN_QUOTE_STATUSES, accepted_quote_for
from documents.texts import split_description
from financing.payer import financier_invoice_refusal
from financing.services import payer_for
from folders import services as folder_services
from folders.delivery import LineDelivery, oneoff_deliveries
from folders.models import Equipment, Folder, OneOffLine
from organizations.models import AuditEntry

# Statuses in which an invoice still "counts" (not replaced, not cancelled).
ACTIVE_INVOICE_STATUSES = (DocumentStatus.ISSUED, DocumentStatus.SENT)


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


def _serials_by_line(lines: Sequence[OneOffLine]) -> dict[int, list[Equipment]]:
    pieces: dict[int, list[Equipment]] = defaultdict(list)
    for piece in Equipment.objects.filter(line__in=[line.pk for line in lines]).order_by("line_id", "piece"):
        pieces[piece.line_id].append(piece)
    return pieces


def awaiting_delivery_error(lines: Sequence[OneOffLine]) -> ValidationError:
    names = ", ".join(split_description(line.description)[0] for line in lines)
    return ValidationError(
        _(
            "Awaiting delivery: %(lines)s. One-off lines are invoiced once they are delivered; issue the "
            "delivery note (or record the delivery date of every piece) first."
        )
        % {"lines": names},
        code="awaiting_delivery",
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
    title, rest = split_description(line.description)
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
        title = split_description(line.description)[0]
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
    financing = financing_of(folder)
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
