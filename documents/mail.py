"""The e-mail that carries a document, in the recipient's language."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMessage

from documents import texts
from documents.models import Document
from documents.pdf import pdf_filename
from documents.rendering import LABELS

SUBJECTS = {
    "de": {
        "quote": "Angebot {number}",
        "invoice": "Rechnung {number}",
        "credit_note": "Gutschrift {number}",
        "delivery_note": "Lieferschein {number}",
        "dunning_letter": "{title} {number}",
    },
    "en": {
        "quote": "Quote {number}",
        "invoice": "Invoice {number}",
        "credit_note": "Credit note {number}",
        "delivery_note": "Delivery note {number}",
        "dunning_letter": "{title} {number}",
    },
}

BODIES = {
    "de": (
        "{salutation}\n\nanbei erhalten Sie {what} {number} vom {date} als PDF.\n\n"
        "Mit freundlichen Grüßen\n{issuer}\n"
    ),
    "en": "{salutation}\n\nplease find attached {what} {number} of {date} as a PDF.\n\nKind regards\n{issuer}\n",
}
WHAT = {
    "de": {
        "quote": "unser Angebot",
        "invoice": "unsere Rechnung",
        "credit_note": "unsere Gutschrift",
        "delivery_note": "unseren Lieferschein",
        "dunning_letter": "unser Schreiben",
    },
    "en": {
        "quote": "our quote",
        "invoice": "our invoice",
        "credit_note": "our credit note",
        "delivery_note": "our delivery note",
        "dunning_letter": "our letter",
    },
}


PROOF_SUBJECTS = {
    "de": "Liefernachweis: Lieferschein {number}",
    "en": "Proof of delivery: delivery note {number}",
}
PROOF_BODIES = {
    "de": (
        "{salutation}\n\nanbei erhalten Sie unseren Lieferschein {number} vom {date} als Liefernachweis "
        "für das Leasingobjekt{reference}.\nNutzer (Leasingnehmer): {end_customer}\n\n"
        "Mit freundlichen Grüßen\n{issuer}\n"
    ),
    "en": (
        "{salutation}\n\nplease find attached our delivery note {number} of {date} as proof of delivery "
        "of the leased object{reference}.\nUser (lessee): {end_customer}\n\nKind regards\n{issuer}\n"
    ),
}
PROOF_REFERENCE = {"de": " (Vertrag / Referenz {reference})", "en": " (contract / reference {reference})"}
ATTACHED_NOTES = {
    "de": "Als Liefernachweis liegen die Lieferscheine {numbers} bei.",
    "en": "The delivery notes {numbers} are attached as proof of delivery.",
}


def _attach_pdf(message: EmailMessage, document: Document) -> None:
    with document.pdf.open("rb") as handle:
        message.attach(pdf_filename(document), handle.read(), "application/pdf")


def _message_with_pdf(document: Document, recipients: list[str], *, subject: str, body: str) -> EmailMessage:
    """The e-mail that sends the document's PDF; replies go to the issuer's address."""
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        reply_to=[document.issuer["email"]] if document.issuer.get("email") else None,
    )
    _attach_pdf(message, document)
    return message


def build_delivery_proof_message(document: Document, recipients: list[str], language: str) -> EmailMessage:
    """A delivery note to the financier: what was delivered, for which lease and user."""
    lang = texts.lang_of(language)
    issuer = document.issuer.get("legal_name", "")
    leased = document.leased_object or {}
    reference = leased.get("contract_reference", "")
    body = PROOF_BODIES[lang].format(
        salutation=texts.text(lang, "salutation"),
        number=document.number,
        date=texts.date(lang, document.issue_date),
        reference=PROOF_REFERENCE[lang].format(reference=reference) if reference else "",
        end_customer=leased.get("end_customer") or document.recipient_name,
        issuer=issuer,
    )
    message = _message_with_pdf(
        document,
        recipients,
        subject=f"{PROOF_SUBJECTS[lang].format(number=document.number)} – {issuer}",
        body=body,
    )
    return message


def build_message(
    document: Document, recipients: list[str], *, delivery_notes: Sequence[Document] = ()
) -> EmailMessage:
    """The document's e-mail; ``delivery_notes`` go with it as proof of delivery (a
    financier's invoice)."""
    lang = texts.lang_of(document.language)
    issuer = document.issuer.get("legal_name", "")
    salutation = (
        texts.text(lang, "salutation_named", name=document.recipient_contact_name)
        if document.recipient_contact_name
        else texts.text(lang, "salutation")
    )
    title = LABELS[lang][f"title_dunning_{document.dunning_level or 1}"] if document.dunning_level else ""
    subject = f"{SUBJECTS[lang][document.kind].format(number=document.number, title=title)} – {issuer}"
    body = BODIES[lang].format(
        salutation=salutation,
        what=WHAT[lang][document.kind],
        number=document.number,
        date=texts.date(lang, document.issue_date),
        issuer=issuer,
    )
    notes = [note for note in delivery_notes if note.pdf]
    if notes:
        paragraphs = body.split("\n\n")
        numbers = ", ".join(note.number for note in notes)
        paragraphs.insert(2, ATTACHED_NOTES[lang].format(numbers=numbers))  # after "anbei ..."
        body = "\n\n".join(paragraphs)
    message = _message_with_pdf(document, recipients, subject=subject, body=body)
    for note in notes:
        _attach_pdf(message, note)
    return message
