"""Dunning letters as documents: numbered, frozen, rendered to PDF like an invoice.

The payments app decides *what* is dunned (which invoices, at which level, which fee);
this module only turns that plain data into an issued document, so documents never
learns about payments. A dunning letter is no invoice: it charges no VAT (a dunning fee
is damages for late payment, not a supply, § 1 UStG), and its lines are the open items
it reminds of, each with the date and due date of the invoice it names, then the fee.
The letter's total is what the payer is asked to pay by its deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from documents import texts
from documents.labels import LABELS
from documents.models import Document, DocumentKind, DocumentLine, DocumentStatus, LineSource
from documents.services import (
    contact_for,
    greeting_for,
    issued_message,
    issuer_snapshot,
    recipient_snapshot,
    require_address,
    schedule_pdf,
)
from documents.services.drafts import document_audit
from organizations.money import ZERO, money
from organizations.numbering import number_next

DUNNING_LEVELS = (1, 2, 3)

LETTER_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "fee": "Mahngebühr",
        "pay_by": (
            "Bitte überweisen Sie den Gesamtbetrag von {amount} bis zum {deadline} auf unser Konto "
            "IBAN {iban}{bic} unter Angabe der Belegnummer {number}."
        ),
        "pay_by_no_bank": "Bitte zahlen Sie den Gesamtbetrag von {amount} bis zum {deadline}.",
        "crossed": "Sollten Sie die Zahlung inzwischen geleistet haben, betrachten Sie dieses Schreiben bitte als gegenstandslos.",
    },
    "en": {
        "fee": "Dunning fee",
        "pay_by": (
            "Please transfer the total of {amount} by {deadline} to our account IBAN {iban}{bic}, "
            "quoting reference {number}."
        ),
        "pay_by_no_bank": "Please pay the total of {amount} by {deadline}.",
        "crossed": "If you have paid in the meantime, please disregard this letter.",
    },
}


@dataclass(frozen=True, kw_only=True)
class DunnedItem:
    """One open item the letter reminds of: an invoice (with its dates) or an earlier fee."""

    text: str
    open: Decimal
    date: dt.date | None = None
    due_date: dt.date | None = None


def letter_text(language: str, key: str, **values) -> str:
    return LETTER_TEXTS[texts.lang_of(language)][key].format(**values)


def level_title(language: str, level: int) -> str:
    """ "Zahlungserinnerung", "1. Mahnung", "2. Mahnung" in the letter's language."""
    return LABELS[texts.lang_of(language)][f"title_dunning_{level}"]


def _payment_text(document: Document, deadline: dt.date) -> str:
    lang = document.language
    issuer = document.issuer
    amount = texts.eur(lang, document.total_gross)
    when = texts.date(lang, deadline)
    if issuer.get("iban"):
        bic = f", BIC {issuer['bic']}" if issuer.get("bic") else ""
        text = letter_text(
            lang,
            "pay_by",
            amount=amount,
            deadline=when,
            iban=texts.format_iban(issuer["iban"]),
            bic=bic,
            number=document.number,
        )
    else:
        text = letter_text(lang, "pay_by_no_bank", amount=amount, deadline=when)
    return f"{text}\n{letter_text(lang, 'crossed')}"


def dunning_letter_issue(
    *,
    organization,
    payer,
    level: int,
    items: Sequence[DunnedItem],
    fee: Decimal,
    body: str,
    deadline: dt.date,
    user,
    issue_date: dt.date | None = None,
) -> Document:
    """Number, freeze and store a dunning letter to ``payer`` listing ``items`` and the
    fee; ``body`` is the level's text (placeholders already filled), printed after the
    salutation. Runs in the caller's transaction when there is one: the number is taken
    under the range lock and returned if the caller rolls back (no gaps). The PDF is
    rendered after commit."""
    if level not in DUNNING_LEVELS:
        raise ValueError(f"unknown dunning level {level!r}")
    if not items:
        raise ValidationError(_("A dunning letter needs at least one open item."), code="no_items")
    fee = money(fee or ZERO)
    if fee < ZERO:
        raise ValidationError(_("A dunning fee cannot be negative."), code="negative_fee")
    require_address(payer, financier=False)
    issue_date = issue_date or timezone.localdate()
    recipient = recipient_snapshot(payer, invoice=True)
    lang = recipient["language"]
    greeting = greeting_for(contact_for(payer, invoice=True), lang)
    rows = [(item.text, item.date, item.due_date, money(item.open)) for item in items]
    if fee > ZERO:
        rows.append((letter_text(lang, "fee"), None, None, fee))
    total = sum((row[3] for row in rows), ZERO)
    with transaction.atomic():
        document = Document(
            organization=organization,
            kind=DocumentKind.DUNNING_LETTER,
            status=DocumentStatus.ISSUED,
            number=number_next(organization=organization, kind=DocumentKind.DUNNING_LETTER, on=issue_date),
            issue_date=issue_date,
            due_date=deadline,
            customer=payer,
            payer=payer,
            issuer=issuer_snapshot(organization),
            dunning_level=level,
            intro_text=f"{greeting}\n\n{body.strip()}" if body.strip() else greeting,
            closing_text=texts.text(lang, "closing", issuer=organization.display_legal_name),
            total_net=total,
            total_tax=ZERO,
            total_gross=total,
            tax_breakdown=[],
            issued_at=timezone.now(),
            created_by=user if getattr(user, "is_authenticated", False) else None,
            **recipient,
        )
        document.payment_text = _payment_text(document, deadline)
        document.full_clean(exclude=["pdf"])
        document.save()
        DocumentLine.objects.bulk_create(
            DocumentLine(
                organization=organization,
                document=document,
                position=position,
                source_kind=LineSource.MANUAL,
                description=text,
                quantity=Decimal(1),
                net=amount,
                # The dunned invoice's date and due date (blank on a fee line).
                service_start=date,
                service_end=due_date,
            )
            for position, (text, date, due_date, amount) in enumerate(rows, start=1)
        )
        document_audit(
            document,
            user=user,
            action="dunning_letter.issued",
            message=issued_message(document),
            extra={"payer": document.recipient_name, "gross": str(document.total_gross), "level": level},
        )
        pk = document.pk
        transaction.on_commit(lambda: schedule_pdf(pk, organization.pk))
    return document
