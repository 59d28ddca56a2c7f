"""Archives for Chorus Pro, the portal through which French public bodies receive invoices.

Chorus Pro takes a flat .tar.gz (no directories) of structured invoices, one complete
invoice per file, all files of one archive in the same syntax (UN/CEFACT CII D16B or
UBL 2.1, profile EN 16931), at most 500 invoices per archive. It routes each invoice by
the buyer's SIRET (BT-47, scheme 0009) and, where the buyer asks for them, its service
code (BT-10) and engagement number (BT-13); the XML carries what the document froze on
issue, so an archive made again gives the same invoices.

    chorus_refusals(documents, organization=...) -> list[str]
    chorus_archives(documents, organization=..., syntax="cii"|"ubl", moment=...) -> list[ChorusArchive]
    chorus_bundle(archives, name=...) -> (filename, mime, bytes)
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import tarfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from documents.einvoice.render import SYNTAXES, file_stem, invoice_xml
from documents.models import Document, DocumentKind

MAX_INVOICES_PER_ARCHIVE = 500
SYNTAX_LABELS = {
    "cii": gettext_lazy("CII D16B (Factur-X, EN 16931)"),
    "ubl": gettext_lazy("UBL 2.1 (EN 16931)"),
}


@dataclass(frozen=True)
class ChorusArchive:
    filename: str
    content: bytes
    documents: tuple[Document, ...]
    members: tuple[str, ...]


def chorus_refusal(document: Document, *, organization) -> str:
    """Why a document cannot go into a Chorus Pro archive ("" when it can)."""
    if document.organization_id != organization.pk:
        # Never name another organization's document.
        return _("One of the chosen documents belongs to another organization.")
    if document.kind not in (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE):
        return _("%(document)s is not an invoice or credit note; only those go to Chorus Pro.") % {
            "document": document
        }
    if document.is_draft:
        return _("%(document)s is a draft; only issued invoices and credit notes go to Chorus Pro.") % {
            "document": document
        }
    if not (document.einvoice or {}).get("siret"):
        return _(
            "%(document)s was issued without the SIRET of %(payer)s; Chorus Pro routes invoices by the buyer's SIRET."
        ) % {"document": document, "payer": document.recipient_name}
    return ""


def chorus_refusals(documents: Sequence[Document], *, organization) -> list[str]:
    refusals: list[str] = []
    for document in documents:
        refusal = chorus_refusal(document, organization=organization)
        if refusal and refusal not in refusals:
            refusals.append(refusal)
    return refusals


def _member_names(documents: Sequence[Document]) -> list[str]:
    """One file per document, named after its number; an invoice and a credit note that
    share a number (two ranges with the same format) get their kind appended."""
    names: list[str] = []
    taken: set[str] = set()
    for document in documents:
        stem = file_stem(document.number) or f"document-{document.pk}"
        name = f"{stem}.xml"
        if name.lower() in taken:
            name = f"{stem}-{document.kind}-{document.pk}.xml"
        taken.add(name.lower())
        names.append(name)
    return names


def _tar_gz(files: Sequence[tuple[str, bytes]], moment: dt.datetime) -> bytes:
    """A flat ustar archive, gzipped, with fixed owner, mode and time: the same files
    give the same bytes."""
    stamp = int(moment.timestamp())
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=stamp) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.USTAR_FORMAT) as archive,
    ):
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = stamp
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def archive_basename(*, organization, syntax: str, moment: dt.datetime) -> str:
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return f"chorus-pro-{file_stem(organization.slug)}-{syntax}-{local:%Y%m%d-%H%M%S}"


def chorus_archives(
    documents: Sequence[Document], *, organization, syntax: str, moment: dt.datetime
) -> list[ChorusArchive]:
    """The archives for the chosen documents, in the order given, 500 to an archive;
    several archives are numbered "-1-of-2". Refuses (ValidationError, nothing built)
    when any document cannot go to Chorus Pro."""
    if syntax not in SYNTAXES:
        raise ValidationError(_("Choose CII or UBL as the syntax of the archive."), code="chorus_syntax")
    if not documents:
        raise ValidationError(_("Choose at least one invoice or credit note."), code="chorus_empty")
    refusals = chorus_refusals(documents, organization=organization)
    if refusals:
        raise ValidationError(refusals, code="chorus_refused")
    base = archive_basename(organization=organization, syntax=syntax, moment=moment)
    chunks = [
        tuple(documents[start : start + MAX_INVOICES_PER_ARCHIVE])
        for start in range(0, len(documents), MAX_INVOICES_PER_ARCHIVE)
    ]
    archives = []
    for index, chunk in enumerate(chunks, start=1):
        names = _member_names(chunk)
        files = [
            (name, invoice_xml(document, syntax, "en16931"))
            for name, document in zip(names, chunk, strict=True)
        ]
        suffix = f"-{index}-of-{len(chunks)}" if len(chunks) > 1 else ""
        archives.append(
            ChorusArchive(
                filename=f"{base}{suffix}.tar.gz",
                content=_tar_gz(files, moment),
                documents=chunk,
                members=tuple(names),
            )
        )
    return archives


def chorus_bundle(archives: Sequence[ChorusArchive], *, name: str) -> tuple[str, str, bytes]:
    """What the user downloads: the archive itself, or several archives in one .zip to
    unpack and upload one by one (Chorus Pro takes one archive per upload)."""
    if len(archives) == 1:
        return archives[0].filename, "application/gzip", archives[0].content
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as bundle:
        for archive in archives:
            bundle.writestr(archive.filename, archive.content)
    return f"{name}.zip", "application/zip", buffer.getvalue()
