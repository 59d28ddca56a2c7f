"""The e-mail of an outbox row (documents.models.Dispatch): the document attached, or a
notification with the link to it in the customer portal, from the organization's template
in the payer's language or the built-in text.

The portal owns the page a notification links to; its address is built here and nowhere
else (`portal_document_url`).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from documents import einvoice, texts
from documents.mail import build_delivery_proof_message, build_message
from documents.models import Dispatch, DispatchChannel, DispatchMailTemplate, Document, DocumentKind
from documents.selectors import financing_of
from organizations.placeholders import fill_placeholders, placeholder_problems

PLACEHOLDERS = (
    "document",
    "number",
    "amount",
    "due_date",
    "customer",
    "collection_date",
    "organization",
    "link",
)
LANGUAGES = ("de", "en")
EINVOICE_KINDS = (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE)
# The portal's document page; the portal app registers it under this URL name.
PORTAL_DOCUMENT_URL_NAME = "portal:document"
PORTAL_DOCUMENT_PATH = "/portal/documents/{id}/"

NOTIFY_SUBJECTS = {
    "de": "{document} {number} – {organization}",
    "en": "{document} {number} – {organization}",
}
NOTIFY_BODIES = {
    "de": (
        "Guten Tag,\n\n{document} {number} über {amount} steht für Sie in unserem Kundenportal bereit:\n"
        "{link}\n\nMit freundlichen Grüßen\n{organization}\n"
    ),
    "en": (
        "Hello,\n\n{document} {number} of {amount} is ready for you in our customer portal:\n"
        "{link}\n\nKind regards\n{organization}\n"
    ),
}


def template_problems(text: str) -> list[str]:
    return placeholder_problems(text, PLACEHOLDERS)


def portal_document_url(document_id: int) -> str:
    """The absolute address of the document in the customer portal (SITE_URL + path)."""
    try:
        path = reverse(PORTAL_DOCUMENT_URL_NAME, args=[document_id])
    except NoReverseMatch:
        path = PORTAL_DOCUMENT_PATH.format(id=document_id)
    return settings.SITE_URL.rstrip("/") + path


def placeholder_values(document: Document, language: str) -> dict[str, str]:
    """What the placeholders stand for, in the payer's language. The collection date is
    the due date of a direct-debit document (collected at the earliest then), else empty."""
    lang = texts.lang_of(language)
    with translation.override(lang):
        title = document.title_label
    direct_debit = document.payment_method == "direct_debit" and document.due_date
    return {
        "document": title,
        "number": document.number,
        "amount": texts.eur(lang, document.total_gross),
        "due_date": texts.date(lang, document.due_date) if document.due_date else "",
        "customer": document.recipient_name,
        "collection_date": texts.date(lang, document.due_date) if direct_debit else "",
        "organization": (document.issuer or {}).get("legal_name", ""),
        "link": portal_document_url(document.pk),
    }


def template_for(document: Document, channel: str) -> DispatchMailTemplate | None:
    return DispatchMailTemplate.objects.filter(
        organization=document.organization_id, channel=channel, language=texts.lang_of(document.language)
    ).first()


def _apply_template(message: EmailMessage, template: DispatchMailTemplate | None, values: dict) -> None:
    if template is None:
        return
    if template.subject:
        message.subject = " ".join(fill_placeholders(template.subject, values).split())
    if template.body:
        message.body = fill_placeholders(template.body, values)


def _headers(dispatch: Dispatch) -> dict[str, str]:
    # The same row always gives the same Message-ID, so a copy can be recognised.
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    return {"Message-ID": f"<{dispatch.key}.{dispatch.organization_id}@{domain}>"}


def build_dispatch_message(
    dispatch: Dispatch, document: Document, *, delivery_notes: Sequence[Document] = ()
) -> EmailMessage:
    """The mail of an e-mail or notification row, to the row's recipients.

    An XRechnung payer gets the XML instead of the PDF: the XML is the invoice, and
    the same invoice sent twice in two forms could count as two (§ 14c UStG)."""
    values = placeholder_values(document, document.language)
    recipients = list(dispatch.recipients)
    if dispatch.channel == DispatchChannel.FINANCIER:
        financing = financing_of(document.folder) if document.folder_id else None
        language = financing.financier.language if financing is not None else document.language
        message = build_delivery_proof_message(document, recipients, language)
        message.extra_headers.update(_headers(dispatch))
        return message
    if dispatch.channel == DispatchChannel.NOTIFY:
        lang = texts.lang_of(document.language)
        message = EmailMessage(
            subject=fill_placeholders(NOTIFY_SUBJECTS[lang], values),
            body=fill_placeholders(NOTIFY_BODIES[lang], values),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=recipients,
            reply_to=[document.issuer["email"]] if (document.issuer or {}).get("email") else None,
        )
    else:
        message = build_message(document, recipients, delivery_notes=delivery_notes)
        xml = einvoice.xml_file(document) if document.kind in EINVOICE_KINDS else None
        if xml is not None:
            name, mime, content = xml
            notes = message.attachments[1:]
            message.attachments = []
            message.attach(name, content, mime)
            message.attachments.extend(notes)
    _apply_template(message, template_for(document, dispatch.channel), values)
    message.extra_headers.update(_headers(dispatch))
    return message


__all__ = [
    "LANGUAGES",
    "PLACEHOLDERS",
    "build_dispatch_message",
    "placeholder_values",
    "portal_document_url",
    "template_for",
    "template_problems",
]
