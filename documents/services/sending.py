"""Sending: when a document may be e-mailed, e-mailing it to the payer, a delivery note to
the financier as proof of delivery, and rendering a missing PDF again.

The mails and the PDF are handed to the worker after commit (documents.tasks).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.selectors import invoice_recipient_emails
from documents import texts
from documents.models import Document, DocumentKind, DocumentStatus
from documents.selectors import delivery_proof_for, financing_of
from documents.services.drafts import document_audit, schedule_pdf
from organizations.system_texts import system_text


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
        document_audit(document, user=user, action=f"{document.kind}.sent", message=message)
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
        financing = financing_of(document.folder)
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
        document_audit(
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
