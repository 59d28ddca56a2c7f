"""The e-mail that carries a document, in the recipient's language."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage

from documents import texts
from documents.models import Document
from documents.pdf import pdf_filename

SUBJECTS = {
    "de": {
        "quote": "Angebot {number}",
        "invoice": "Rechnung {number}",
        "credit_note": "Gutschrift {number}",
        "delivery_note": "Lieferschein {number}",
    },
    "en": {
        "quote": "Quote {number}",
        "invoice": "Invoice {number}",
        "credit_note": "Credit note {number}",
        "delivery_note": "Delivery note {number}",
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
    },
    "en": {
        "quote": "our quote",
        "invoice": "our invoice",
        "credit_note": "our credit note",
        "delivery_note": "our delivery note",
    },
}


def build_message(document: Document, recipients: list[str]) -> EmailMessage:
    lang = texts.lang_of(document.language)
    issuer = document.issuer.get("legal_name", "")
    salutation = (
        texts.text(lang, "salutation_named", name=document.recipient_contact_name)
        if document.recipient_contact_name
        else texts.text(lang, "salutation")
    )
    subject = f"{SUBJECTS[lang][document.kind].format(number=document.number)} – {issuer}"
    body = BODIES[lang].format(
        salutation=salutation,
        what=WHAT[lang][document.kind],
        number=document.number,
        date=texts.date(lang, document.issue_date),
        issuer=issuer,
    )
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        reply_to=[document.issuer["email"]] if document.issuer.get("email") else None,
    )
    with document.pdf.open("rb") as handle:
        message.attach(pdf_filename(document), handle.read(), "application/pdf")
    return message
