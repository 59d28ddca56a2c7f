"""Quotes: made from the folder for the end customer, issued, accepted, declined, revised.

A quote lists the folder's one-off lines (the financier's first, under its name, on a
financed folder) and its recurring lines per billing cycle. Accepting it activates the
folder; one-off invoices then have to repeat it (documents.services.invoices).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from documents import texts
from documents.composition import (
    LineSpec,
    folder_label_of,
    oneoff_spec,
    recipient_snapshot,
    recurring_spec,
    setup_spec,
)
from documents.models import Document, DocumentKind, DocumentStatus
from documents.selectors import financing_of
from documents.services.drafts import (
    document_audit,
    document_draft_create,
    document_issue,
    document_lines_create,
)
from financing.services import payer_for
from folders import services as folder_services
from folders.models import Folder, FolderStatus
from organizations.system_texts import system_text

DEFAULT_QUOTE_VALIDITY_DAYS = 30

# Statuses in which a document still "counts" (not replaced, not cancelled).
OPEN_QUOTE_STATUSES = (DocumentStatus.ISSUED, DocumentStatus.SENT)
REVISABLE_QUOTE_STATUSES = (*OPEN_QUOTE_STATUSES, DocumentStatus.DECLINED, DocumentStatus.ACCEPTED)


def _quote_lines(folder: Folder, language: str) -> tuple[list[LineSpec], dict]:
    """The quote's lines, per payer: first what a financier is invoiced (``payer_for``),
    under a heading that names it, then what the end customer pays once (setup fees and
    whatever is not financed), then per billing cycle. Also the financed block's header
    (the financier's name and tax treatment), empty when nothing is financed. A folder
    without lines is refused: there is nothing to quote."""
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
    specs += [setup_spec(line, language, oneoff_title) for line in setups]
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
    if not specs:
        raise ValidationError(
            _("Folder %(folder)s has no lines yet. Add one-off or recurring lines before making a quote.")
            % {"folder": folder_label_of(folder)},
            code="nothing_to_quote",
        )
    return specs, header


def _quote_terms(folder: Folder, language: str, valid_until: dt.date, extra: str) -> str:
    parts = [texts.text(language, "quote_terms", valid_until=texts.date(language, valid_until))]
    if folder.minimum_term_months and folder.recurring_lines.exists():
        parts.append(texts.text(language, "quote_terms_min_term", months=folder.minimum_term_months))
    financing = financing_of(folder)
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
    document_audit(
        draft,
        user=user,
        action="quote.draft_created",
        message=system_text("documents.quote_draft_saved", name=customer.name),
    )
    return draft


def _refresh_quote_lines(quote: Document) -> None:
    folder = quote.folder
    lines, financed_header = _quote_lines(folder, quote.language)
    quote.lines.all().delete()
    # Before the lines: they are taxed as the financier named here will be.
    quote.financed_totals = financed_header
    quote.save(update_fields=["financed_totals", "updated_at"])
    document_lines_create(quote, lines)


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


def _quote_decide(quote: Document, *, user, status: str, action: str, text: str, extra=None) -> Document:
    """Record the customer's answer on the quote, re-read under a lock and still open:
    its status and date, with the audit entry. Runs in the caller's transaction."""
    quote = Document.objects.select_for_update().get(pk=quote.pk)
    _check_quote_open(quote)
    quote.status = status
    quote.decided_at = timezone.now()
    quote.save(update_fields=["status", "decided_at", "updated_at"])
    document_audit(
        quote, user=user, action=action, message=system_text(text, number=quote.number), extra=extra
    )
    return quote


def quote_accept(*, quote: Document, user) -> Document:
    """The customer said yes: the quote is accepted and its folder activated (which turns
    a prospect into a customer)."""
    with transaction.atomic():
        quote = _quote_decide(
            quote,
            user=user,
            status=DocumentStatus.ACCEPTED,
            action="quote.accepted",
            text="documents.quote_accepted",
        )
        folder = quote.folder
        if folder is not None and folder.status == FolderStatus.DRAFT:
            folder_services.folder_activate(folder=folder, user=user)
    return quote


def quote_decline(*, quote: Document, user, reason: str = "") -> Document:
    with transaction.atomic():
        return _quote_decide(
            quote,
            user=user,
            status=DocumentStatus.DECLINED,
            action="quote.declined",
            text="documents.quote_declined",
            extra={"reason": reason} if reason else None,
        )


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
        document_audit(
            quote,
            user=user,
            action="quote.superseded",
            message=system_text("documents.quote_superseded", old=quote.number, new=new.number),
        )
    return new


def accepted_quote_for(folder: Folder) -> Document | None:
    """The quote the customer accepted for this folder (the newest, if several): what a
    one-off invoice must repeat. A superseded version binds nobody."""
    return (
        Document.objects.filter(folder=folder, kind=DocumentKind.QUOTE, status=DocumentStatus.ACCEPTED)
        .order_by("-issue_date", "-id")
        .first()
    )
