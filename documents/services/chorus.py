"""Exporting invoices to Chorus Pro: the archives (documents.einvoice.chorus) and the
record of who exported what, when, in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.einvoice.chorus import ChorusArchive, archive_basename, chorus_archives, chorus_bundle
from documents.models import ChorusExport, ChorusExportItem, DispatchChannel, Document
from documents.services.dispatch import mark_dispatched
from organizations.audit import audit_entry, audit_log
from organizations.models import AuditEntry
from organizations.system_texts import system_text

# Ids beyond this many in one request are refused rather than loaded.
MAX_DOCUMENTS_PER_EXPORT = 20_000


@dataclass(frozen=True)
class ChorusDownload:
    filename: str
    content_type: str
    content: bytes
    exports: tuple[ChorusExport, ...]
    count: int


def chorus_documents(*, organization, document_ids: Sequence[int]) -> list[Document]:
    """The chosen documents of this organization, in number order, with what their XML
    reads (lines, the cancelled invoice) loaded in a few queries."""
    return list(
        Document.objects.filter(organization=organization, pk__in=set(document_ids))
        .select_related("cancels")
        .prefetch_related("lines")
        .order_by("kind", "issue_date", "number", "pk")
    )


def chorus_export_create(*, organization, user, document_ids: Sequence[int], syntax: str) -> ChorusDownload:
    """Build the Chorus Pro archives of the chosen invoices and credit notes and record
    the export (one ChorusExport per archive, an audit entry on it and on each document).
    Refuses with a ValidationError and records nothing when any document cannot go."""
    ids = sorted(set(document_ids))
    if len(ids) > MAX_DOCUMENTS_PER_EXPORT:
        raise ValidationError(
            _("Choose at most %(max)s documents per export.") % {"max": MAX_DOCUMENTS_PER_EXPORT},
            code="chorus_too_many",
        )
    documents = chorus_documents(organization=organization, document_ids=ids)
    if len(documents) != len(ids):
        # Ids of another organization are as unknown as ids that never existed.
        raise ValidationError(
            _("Some of the chosen documents do not exist (any more). Reload the page and choose again."),
            code="chorus_unknown",
        )
    moment = timezone.now()
    archives = chorus_archives(documents, organization=organization, syntax=syntax, moment=moment)
    with transaction.atomic():
        exports = tuple(
            _record(organization=organization, user=user, syntax=syntax, archive=archive)
            for archive in archives
        )
        # The outbox rows waiting for this export are delivered now.
        mark_dispatched(documents, DispatchChannel.CHORUS, result=", ".join(e.filename for e in exports))
    name = archive_basename(organization=organization, syntax=syntax, moment=moment)
    filename, content_type, content = chorus_bundle(archives, name=name)
    return ChorusDownload(
        filename=filename,
        content_type=content_type,
        content=content,
        exports=exports,
        count=len(documents),
    )


def _record(*, organization, user, syntax: str, archive: ChorusArchive) -> ChorusExport:
    export = ChorusExport(
        organization=organization,
        user=user if getattr(user, "is_authenticated", False) else None,
        syntax=syntax,
        filename=archive.filename,
        count=len(archive.documents),
    )
    export.full_clean()
    export.save()
    ChorusExportItem.objects.bulk_create(
        ChorusExportItem(organization=organization, export=export, document=document)
        for document in archive.documents
    )
    numbers = [document.number for document in archive.documents]
    audit_log(
        organization=organization,
        user=user,
        action="chorus.exported",
        obj=export,
        data={"syntax": syntax, "filename": archive.filename, "count": len(numbers), "numbers": numbers},
    )
    # Each document's history says it went to Chorus Pro, and in which archive.
    AuditEntry.objects.bulk_create(
        audit_entry(
            organization=organization,
            user=user,
            action="chorus.exported",
            obj=document,
            data={
                "document_id": document.pk,
                "kind": document.kind,
                "number": document.number,
                "message": system_text(
                    "documents.chorus_exported",
                    kind=document.kind,
                    number=document.number,
                    filename=archive.filename,
                ),
            },
        )
        for document in archive.documents
    )
    return export
