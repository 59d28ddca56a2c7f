"""EN 16931 e-invoices of issued invoices and credit notes: CII (ZUGFeRD/Factur-X,
XRechnung CII) and UBL 2.1 (XRechnung UBL), and the ZUGFeRD PDF/A-3 that carries the CII.

    invoice_xml(document, syntax="cii"|"ubl", profile="en16931"|"xrechnung") -> bytes
    zugferd_pdf(document, pdf_bytes) -> bytes
"""

from __future__ import annotations

from documents.einvoice.checks import check_einvoice
from documents.einvoice.render import (
    FORMATS,
    SYNTAXES,
    einvoice_format,
    invoice_xml,
    wants_zugferd,
    xml_file,
    zugferd_pdf,
)

__all__ = [
    "FORMATS",
    "SYNTAXES",
    "check_einvoice",
    "einvoice_format",
    "invoice_xml",
    "wants_zugferd",
    "xml_file",
    "zugferd_pdf",
]
