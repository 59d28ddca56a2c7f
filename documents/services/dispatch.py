"""The outbox: rows that say how an issued document goes to its payer (documents.models.
Dispatch), and what people do with them - send a failed mail again, print the post, mark
the Chorus Pro export done - plus the organization's e-mail templates.

The worker sends mail rows through documents.services.sending.dispatch_deliver, the one
place that sends; this module only writes rows and schedules that task after commit.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.dispatch_mail import LANGUAGES, template_problems
from documents.models import (
    MAIL_CHANNELS,
    SENDING_STALE_AFTER,
    Dispatch,
    DispatchChannel,
    DispatchMailTemplate,
    DispatchStatus,
    Document,
    DocumentStatus,
)
from documents.services.drafts import document_audit
from organizations.audit import audit_log
from organizations.system_texts import system_text

TEMPLATE_CHANNELS = (DispatchChannel.EMAIL, DispatchChannel.NOTIFY)


def _user_or_none(user):
    return user if getattr(user, "is_authenticated", False) else None


def dispatch_schedule(dispatch_id: int, organization_id: int) -> None:
    from documents.tasks import send_dispatch

    send_dispatch.delay(dispatch_id, organization_id)


def dispatch_queue(
    *,
    document: Document,
    channel: str,
    recipients: Sequence[str] = (),
    user=None,
    status: str = DispatchStatus.QUEUED,
    result: str = "",
) -> Dispatch:
    """Write the next outbox row of the document and channel; a queued mail row goes to the
    worker after commit. The document row is locked so two sends number their attempts
    one after the other (the unique key would refuse the second otherwise)."""
    with transaction.atomic():
        Document.objects.select_for_update().filter(pk=document.pk).first()
        last = Dispatch.objects.filter(document=document, channel=channel).aggregate(n=Max("attempt"))["n"]
        attempt = (last or 0) + 1
        row = Dispatch.objects.create(
            organization_id=document.organization_id,
            document=document,
            channel=channel,
            attempt=attempt,
            key=Dispatch.key_for(document.pk, channel, attempt),
            recipients=list(recipients),
            status=status,
            result=result,
            created_by=_user_or_none(user),
        )
        if channel in MAIL_CHANNELS and status == DispatchStatus.QUEUED:
            pk, organization_id = row.pk, row.organization_id
            transaction.on_commit(lambda: dispatch_schedule(pk, organization_id))
    return row


def _document_sent(document_ids: Iterable[int], when: dt.datetime) -> None:
    """An issued document counts as sent once one of its rows went out."""
    ids = list(document_ids)
    Document.objects.filter(pk__in=ids, status=DocumentStatus.ISSUED).update(
        status=DocumentStatus.SENT, sent_at=when, updated_at=when
    )
    Document.objects.filter(pk__in=ids, sent_at__isnull=True).exclude(status=DocumentStatus.DRAFT).update(
        sent_at=when, updated_at=when
    )


def dispatch_locked(dispatch_id: int) -> Dispatch | None:
    """The row under its lock, with its document (inside a transaction)."""
    return (
        Dispatch.objects.select_for_update(of=("self",))
        .select_related("document")
        .filter(pk=dispatch_id)
        .first()
    )


def _audit(row: Dispatch, *, action: str, code: str, **params) -> None:
    """File what happened to the row in its document's history."""
    document = row.document
    document_audit(
        document,
        user=row.created_by,
        action=f"{document.kind}.{action}",
        message=system_text(
            code, kind=document.kind, cancellation=document.cancellation, number=document.number, **params
        ),
        extra={"dispatch": row.key},
    )


def dispatch_rows_sent(rows: Sequence[Dispatch], *, result: str = "", notes: Sequence[str] = ()) -> None:
    """Mark locked rows sent, their documents sent, and file it in each document's history."""
    now = timezone.now()
    for row in rows:
        row.status = DispatchStatus.SENT
        row.sent_at = now
        row.result = result
        row.save(update_fields=["status", "sent_at", "result", "updated_at"])
        if row.channel in MAIL_CHANNELS:
            _audit(row, action="sent", code="documents.sent", to=list(row.recipients), notes=list(notes))
        else:
            _audit(row, action="sent", code="documents.dispatched", channel=row.channel)
    _document_sent({row.document_id for row in rows}, now)


def dispatch_row_failed(row: Dispatch, *, reason: str) -> None:
    """Mark a locked row failed with the reason, and say so in the document's history."""
    row.status = DispatchStatus.FAILED
    row.result = reason[:2000]
    row.save(update_fields=["status", "result", "updated_at"])
    _audit(row, action="dispatch_failed", code="documents.dispatch_failed", reason=row.result)


def mark_dispatched(documents: Iterable[Document], channel: str, result: str = "") -> int:
    """Mark the queued rows of these documents and channel sent (the Chorus Pro export, the
    printed post); returns how many rows. Rows already sent stay as they are."""
    ids = [document.pk for document in documents]
    with transaction.atomic():
        rows = list(
            Dispatch.objects.select_for_update(of=("self",))
            .select_related("document")
            .filter(document_id__in=ids, channel=channel, status=DispatchStatus.QUEUED)
            .order_by("id")
        )
        dispatch_rows_sent(rows, result=result)
    return len(rows)


def dispatch_is_stale(row: Dispatch, *, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        row.status == DispatchStatus.SENDING and (row.tried_at or row.updated_at) < now - SENDING_STALE_AFTER
    )


def dispatch_retry_refusal(row: Dispatch) -> ValidationError | None:
    """Why this row cannot be sent again now (None: it can): only a failed mail, or one
    whose worker was lost while sending, of a document that is still to be sent."""
    if row.channel not in MAIL_CHANNELS:
        return ValidationError(_("Only e-mails are sent again."), code="not_mail")
    if row.status == DispatchStatus.SENT:
        return ValidationError(_("This e-mail was sent already."), code="sent")
    if row.status == DispatchStatus.QUEUED:
        return ValidationError(_("This e-mail is waiting to be sent."), code="queued")
    if row.status == DispatchStatus.SENDING and not dispatch_is_stale(row):
        return ValidationError(_("This e-mail is being sent."), code="sending")
    if row.document.status in (DocumentStatus.CANCELLED, DocumentStatus.SUPERSEDED):
        return ValidationError(
            _("%(document)s is %(status)s and is not sent any more.")
            % {"document": row.document, "status": row.document.get_status_display()},
            code="closed",
        )
    return None


def dispatch_retry(*, dispatch: Dispatch, user, recipients: Sequence[str]) -> Dispatch:
    """Queue a failed (or interrupted) mail row again, to the payer's current addresses
    (an address added since the failure counts); the same row and key, one try more."""
    with transaction.atomic():
        row = dispatch_locked(dispatch.pk)
        refusal = dispatch_retry_refusal(row)
        if refusal is not None:
            raise refusal
        to = [r for r in recipients if r]
        if not to:
            raise ValidationError(
                _("%(payer)s has no invoice e-mail address or invoice-recipient contact.")
                % {"payer": row.document.recipient_name},
                code="no_recipient",
            )
        row.status = DispatchStatus.QUEUED
        row.recipients = to
        row.result = ""
        row.save(update_fields=["status", "recipients", "result", "updated_at"])
        audit_log(
            organization=row.document.organization,
            user=user,
            action="dispatch.retried",
            obj=row.document,
            data={"dispatch": row.key, "to": to},
        )
        pk, organization_id = row.pk, row.organization_id
        transaction.on_commit(lambda: dispatch_schedule(pk, organization_id))
    return row


def post_print(*, organization, user, dispatch_ids: Iterable[int]) -> tuple[bytes, int]:
    """One PDF of the chosen letters still to print (queued post rows), in list order, and
    those rows marked sent. Only rows the user saw are printed: a letter queued meanwhile
    waits for the next print."""
    from pypdf import PdfWriter

    from documents.pdf import render_and_store

    rows = list(
        Dispatch.objects.filter(
            organization=organization,
            pk__in=list(dispatch_ids),
            channel=DispatchChannel.POST,
            status=DispatchStatus.QUEUED,
        )
        .select_related("document")
        .order_by("created_at", "id")
    )
    if not rows:
        raise ValidationError(_("There is nothing to print."), code="nothing")
    writer = PdfWriter()
    for row in rows:
        document = render_and_store(row.document)
        with document.pdf.open("rb") as handle:
            writer.append(io.BytesIO(handle.read()))
    buffer = io.BytesIO()
    writer.write(buffer)
    when = timezone.localtime().strftime("%d.%m.%Y %H:%M")
    with transaction.atomic():
        locked = list(
            Dispatch.objects.select_for_update(of=("self",))
            .select_related("document")
            .filter(pk__in=[row.pk for row in rows], status=DispatchStatus.QUEUED)
            .order_by("id")
        )
        for row in locked:
            row.created_by = row.created_by or _user_or_none(user)
        dispatch_rows_sent(locked, result=_("Printed on %(when)s") % {"when": when})
    return buffer.getvalue(), len(locked)


# --- e-mail templates ------------------------------------------------------------------------


def dispatch_mail_templates(organization) -> dict[tuple[str, str], DispatchMailTemplate]:
    """Every (channel, language) template of the organization, unsaved ones blank."""
    found = {
        (t.channel, t.language): t for t in DispatchMailTemplate.objects.filter(organization=organization)
    }
    return {
        (channel, language): found.get((channel, language))
        or DispatchMailTemplate(organization=organization, channel=channel, language=language)
        for channel in TEMPLATE_CHANNELS
        for language in LANGUAGES
    }


def dispatch_mail_templates_update(
    *, organization, user, texts: dict[tuple[str, str], tuple[str, str]]
) -> None:
    """Save the templates: ``texts[(channel, language)] = (subject, body)``. Unknown
    placeholders are refused, and a notification's text must carry its {link}."""
    errors = []
    for (channel, _language), (subject, body) in texts.items():
        problems = template_problems(subject) + template_problems(body)
        if problems:
            errors.append(
                ValidationError(
                    _("Unknown placeholder: %(names)s.")
                    % {"names": ", ".join("{" + p + "}" for p in sorted(set(problems)))},
                    code="placeholder",
                )
            )
        if channel == DispatchChannel.NOTIFY and body.strip() and "{link}" not in body:
            errors.append(
                ValidationError(
                    _(
                        "The notification text needs the placeholder {link}: it is the only way to the document."
                    ),
                    code="no_link",
                )
            )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        for (channel, language), (subject, body) in texts.items():
            DispatchMailTemplate.objects.update_or_create(
                organization=organization,
                channel=channel,
                language=language,
                defaults={"subject": subject.strip(), "body": body.strip()},
            )
        audit_log(
            organization=organization,
            user=user,
            action="dispatch.templates_changed",
            obj=organization,
            data={"templates": sorted(f"{channel}:{language}" for channel, language in texts)},
        )
