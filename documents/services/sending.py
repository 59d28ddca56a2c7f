"""Sending: when a document may be e-mailed, sending it the way its payer chose (an outbox
row per channel, documents.services.dispatch), delivering an outbox mail (the one place
that sends a document's mail), a delivery note to the financier as proof of delivery, and
rendering a missing PDF again.

The mails and the PDF are handed to the worker after commit (documents.tasks).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import DeliveryMethod
from customers.selectors import invoice_recipient_emails
from documents.models import (
    MAIL_CHANNELS,
    Dispatch,
    DispatchChannel,
    DispatchStatus,
    Document,
    DocumentKind,
    DocumentStatus,
)
from documents.selectors import delivery_proof_for, financing_of
from documents.services.dispatch import (
    dispatch_locked,
    dispatch_queue,
    dispatch_row_failed,
    dispatch_rows_sent,
)
from documents.services.drafts import document_audit, schedule_pdf
from organizations.system_texts import system_text

logger = logging.getLogger(__name__)

# Chorus Pro takes invoices and credit notes only; the payer's other documents go by mail.
CHORUS_KINDS = (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE)


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
    """E-mail the document to the payer (invoice e-mail and invoice-recipient contacts) or
    to the given recipients: an e-mail row in the outbox, sent by the worker after commit."""
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        to = [r for r in (recipients or invoice_recipient_emails(customer=document.payer)) if r]
        refusal = document_sendable(document, recipients=to or None)
        if refusal is not None:
            raise refusal
        dispatch_queue(document=document, channel=DispatchChannel.EMAIL, recipients=to, user=user)
    return document


def dispatch_channel_for(document: Document) -> str:
    """How the document goes to its payer, from the payer's delivery method: by post, in
    the Chorus Pro export (invoices and credit notes; the rest by e-mail), as a portal
    notification, else e-mailed with the document attached."""
    method = document.payer.delivery_method if document.payer_id else ""
    if method == DeliveryMethod.POST:
        return DispatchChannel.POST
    if method == DeliveryMethod.CHORUS_PRO and document.kind in CHORUS_KINDS:
        return DispatchChannel.CHORUS
    if method == DeliveryMethod.EMAIL_NOTIFICATION:
        return DispatchChannel.NOTIFY
    return DispatchChannel.EMAIL


def document_dispatchable(
    document: Document, *, recipients: Sequence[str] | None = None
) -> ValidationError | None:
    """Why "send" cannot act now (None: it can). A letter already waiting to be printed or
    exported to Chorus Pro is not queued twice. ``recipients``: the payer's addresses when
    the caller has read them already."""
    channel = dispatch_channel_for(document)
    if channel in MAIL_CHANNELS:
        return document_sendable(document, recipients=recipients)
    refusal = document_sendable(document, recipients=[channel])
    if refusal is not None:
        return refusal
    if document.dispatches.filter(channel=channel, status=DispatchStatus.QUEUED).exists():
        if channel == DispatchChannel.POST:
            return ValidationError(_("The document is already in the list to print."), code="pending")
        return ValidationError(
            _("The document is already waiting for the Chorus Pro export."), code="pending"
        )
    return None


def document_dispatch(*, document: Document, user, once: bool = False) -> Dispatch:
    """Send an issued document the way its payer chose: an outbox row of that channel.
    E-mail and notification rows go to the worker after commit; post waits in the list
    to print, Chorus Pro for the export.

    ``once`` (the billing run): a document that has a row already keeps it, and a missing
    e-mail address gives a failed row with the reason instead of an error, so the run
    never stops and the back office finds the document among the failed dispatches."""
    with transaction.atomic():
        document = Document.objects.select_for_update().select_related("payer").get(pk=document.pk)
        if once:
            existing = document.dispatches.order_by("id").first()
            if existing is not None:
                return existing
        channel = dispatch_channel_for(document)
        to = invoice_recipient_emails(customer=document.payer) if channel in MAIL_CHANNELS else []
        refusal = document_dispatchable(document, recipients=to or None)
        if refusal is not None and not (once and refusal.code == "no_recipient"):
            raise refusal
        if refusal is not None:
            return dispatch_queue(
                document=document,
                channel=channel,
                user=user,
                status=DispatchStatus.FAILED,
                result=refusal.messages[0],
            )
        return dispatch_queue(document=document, channel=channel, recipients=to, user=user)


def dispatch_deliver(*, dispatch_id: int) -> str:
    """Send one outbox mail, at most once: claim the row under its lock (queued or failed
    -> sending) and commit, send, then mark it sent - or failed with the backend's reason,
    to be tried again. Returns the row's status ("refused" for a document closed since).

    Any error of rendering or of the mail backend (SMTP, an API) fails the row: it is
    recorded with the reason rather than lost in a worker's log."""
    from documents.dispatch_mail import build_dispatch_message
    from documents.pdf import render_and_store

    with transaction.atomic():
        row = dispatch_locked(dispatch_id)
        if row is None:
            return "missing"
        if row.channel not in MAIL_CHANNELS or row.status not in (
            DispatchStatus.QUEUED,
            DispatchStatus.FAILED,
        ):
            return row.status
        refusal = document_sendable(row.document, recipients=row.recipients)
        if refusal is not None:
            dispatch_row_failed(row, reason=refusal.messages[0])
            return "refused"
        row.status = DispatchStatus.SENDING
        row.tries += 1
        row.tried_at = timezone.now()
        row.save(update_fields=["status", "tries", "tried_at", "updated_at"])
    notes: list[Document] = []
    try:
        document = render_and_store(row.document)
        if row.channel == DispatchChannel.EMAIL:
            # A financier's invoice carries the folder's delivery notes as proof of delivery.
            notes = [render_and_store(note) for note in delivery_proof_for(document)]
        message = build_dispatch_message(row, document, delivery_notes=notes)
        sent = message.send()
        if not sent:
            raise RuntimeError("the mail backend accepted no message")
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
        logger.warning("dispatch %s failed: %r", row.key, exc)
        with transaction.atomic():
            row = dispatch_locked(row.pk)
            dispatch_row_failed(row, reason=f"{type(exc).__name__}: {exc}")
        return DispatchStatus.FAILED
    with transaction.atomic():
        row = dispatch_locked(row.pk)
        dispatch_rows_sent(
            [row], result=_esp_reference(message), notes=[note.number for note in notes if note.pdf]
        )
    return DispatchStatus.SENT


def _esp_reference(message) -> str:
    """What an e-mail service said (django-anymail): its message id, to find the mail in
    its logs, and the addresses it refused while it delivered to the others (a refusal of
    all of them raises, and the row fails)."""
    status = getattr(message, "anymail_status", None)
    if status is None:
        return ""
    parts = []
    if status.message_id not in (None, ""):
        parts.append(f"Message-ID {status.message_id}")
    refused = sorted(
        email
        for email, one in (status.recipients or {}).items()
        if one.status in ("rejected", "invalid", "failed")
    )
    if refused:
        parts.append(_("refused by the e-mail service: %(to)s") % {"to": ", ".join(refused)})
    return "; ".join(parts)


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
        # An outbox row like every other mail: sent once by the worker, retried, visible.
        dispatch_queue(document=document, channel=DispatchChannel.FINANCIER, recipients=to, user=user)
    return to


def dispatch_recipients(row: Dispatch) -> list[str]:
    """Where a mail row goes when it is sent again: the current addresses of whom it is
    for (the financier for a proof of delivery, else the document's payer)."""
    if row.channel == DispatchChannel.FINANCIER:
        financing = financing_of(row.document.folder) if row.document.folder_id else None
        return invoice_recipient_emails(customer=financing.financier) if financing is not None else []
    return invoice_recipient_emails(customer=row.document.payer)


def document_render_again(*, document: Document, user) -> None:
    """Render a missing PDF (after a failed render). An existing PDF is never replaced."""
    if document.is_draft:
        raise ValidationError(_("Drafts have no PDF."), code="draft")
    if document.pdf:
        raise ValidationError(_("The PDF already exists and is never rendered again."), code="has_pdf")
    transaction.on_commit(lambda: schedule_pdf(document.pk, document.organization_id))
