"""The mandate form a customer signs: a DIN 5008 letter (the layout of our invoices)
with the creditor id, the mandate reference, the debtor's data and the standard German
mandate text of the Deutsche Kreditwirtschaft (SEPA Core or B2B)."""

from __future__ import annotations

import atexit
import functools
import threading

from django.template.loader import get_template
from django.utils import timezone

from documents.rendering import CSS_PATH, FONT_DIR, FONT_FAMILY, FONT_FILES, format_iban

from .models import MandateScheme, SepaMandate

_LOCK = threading.Lock()


@functools.cache
def _resources():
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    faces = "\n".join(
        f'@font-face {{ font-family: "{FONT_FAMILY}"; font-weight: {weight}; font-style: normal; '
        f'src: url("{(FONT_DIR / name).resolve().as_uri()}") format("truetype"); }}'
        for name, weight in FONT_FILES
    )
    css = CSS(
        string=faces + "\n" + CSS_PATH.read_text(encoding="utf-8"),
        base_url=CSS_PATH.parent.as_uri() + "/",
        font_config=font_config,
    )
    return font_config, css


# Drop the cached fonts before interpreter shutdown so WeasyPrint can remove its temp folder.
atexit.register(_resources.cache_clear)


def mandate_context(mandate: SepaMandate) -> dict:
    org = mandate.organization
    customer = mandate.customer
    creditor = org.display_legal_name
    sender = " · ".join(p for p in [creditor, org.street, f"{org.postal_code} {org.city}".strip()] if p)
    recipient = [customer.name, customer.street, f"{customer.postal_code} {customer.city}".strip()]
    return {
        "mandate": mandate,
        "b2b": mandate.scheme == MandateScheme.B2B,
        "creditor": creditor,
        "creditor_address": ", ".join(p for p in [org.street, f"{org.postal_code} {org.city}".strip()] if p),
        "creditor_id": org.creditor_id,
        "sender_line": sender,
        "recipient_lines": [line for line in recipient if line],
        "iban": format_iban(mandate.iban),
        "today": timezone.localdate(),
        "customer": customer,
        "folder": mandate.folder,
    }


def render_mandate_pdf(mandate: SepaMandate) -> bytes:
    from weasyprint import HTML

    html = get_template("payments/mandate_pdf.html").render(mandate_context(mandate))
    font_config, css = _resources()
    with _LOCK:
        return HTML(string=html, base_url=CSS_PATH.parent.as_uri() + "/").write_pdf(
            stylesheets=[css], font_config=font_config, pdf_identifier=f"mandate:{mandate.reference}".encode()
        )
