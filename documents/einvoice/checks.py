"""What must be right before an invoice is issued so that its e-invoice is valid, and the
data the e-invoice needs beyond the printed snapshot (taken in the same transaction).

Refused here, with a message on the document, never later in a worker: a line whose
unit has no UN/ECE Rec 20 code, XRechnung without a valid Leitweg-ID or without the
e-mail addresses XRechnung requires, Chorus Pro without the buyer's SIRET.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from customers.models import DeliveryMethod, EInvoiceFormat, PaymentMethod, is_leitweg_id
from documents.einvoice import codes
from documents.models import Document, DocumentKind


def _address(obj, prefix: str = "") -> dict:
    return {
        "street": getattr(obj, f"{prefix}street", "") or "",
        "postal_code": getattr(obj, f"{prefix}postal_code", "") or "",
        "city": getattr(obj, f"{prefix}city", "") or "",
        "country": (getattr(obj, f"{prefix}country", "") or "DE").upper(),
    }


def _ship_to(document: Document, folder) -> dict:
    if folder is None or not document.third_party:
        return {}
    if folder.delivery_street or folder.delivery_city:
        site = _address(folder, "delivery_")
        site["country"] = (folder.delivery_country or folder.customer.country or "DE").upper()
        return {"name": folder.delivery_name or folder.customer.name, **site}
    return {"name": folder.customer.name, **_address(folder.customer)}


def einvoice_snapshot(document: Document, *, payer=None, folder=None, organization=None) -> dict:
    payer = payer or document.payer
    folder = folder if folder is not None else (document.folder if document.folder_id else None)
    organization = organization or document.organization
    return {
        "format": payer.einvoice_format,
        "buyer_reference": (payer.buyer_reference or "").strip(),
        "buyer": {**_address(payer), "email": (payer.invoice_email or payer.email or "").strip()},
        "seller": _address(organization),
        "ship_to": _ship_to(document, folder),
        "debtor_iban": (document.mandate_iban or payer.iban or "").replace(" ", "")
        if document.payment_method == PaymentMethod.DIRECT_DEBIT
        else "",
        "siret": payer.siret,
        "service_code": payer.service_code,
        "engagement_number": payer.engagement_number,
    }


def _value(line, name: str):
    return line[name] if isinstance(line, dict) else getattr(line, name)


def check_einvoice(
    document: Document, lines: Iterable, *, payer=None, folder=None, organization=None
) -> None:
    """Refuse what would make the e-invoice invalid, then keep its data on the document
    (saved with it by the issuing service). Only invoices and credit notes have one.
    ``lines`` are document lines or their column values; ``payer`` and ``folder`` save
    the bulk path a query per invoice."""
    if document.kind not in (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE):
        return
    bad_units = sorted(
        {
            _value(line, "unit")
            for line in lines
            if _value(line, "unit_price") is not None and codes.unit_code(_value(line, "unit")) is None
        }
    )
    if bad_units:
        raise ValidationError(
            _("The unit %(units)s has no code for e-invoices; choose one of the listed units.")
            % {"units": ", ".join(f"“{unit}”" for unit in bad_units)},
            code="einvoice_unit",
        )
    payer = payer or document.payer
    organization = organization or document.organization
    snapshot = einvoice_snapshot(document, payer=payer, folder=folder, organization=organization)
    if payer.delivery_method == DeliveryMethod.CHORUS_PRO and not snapshot["siret"]:
        # Chorus Pro routes an invoice by the buyer's SIRET; without it the archive is refused.
        raise ValidationError(
            _(
                "%(payer)s receives invoices through Chorus Pro, which needs the customer's SIRET (customer record)."
            )
            % {"payer": payer.name},
            code="einvoice_siret",
        )
    if snapshot["format"] in (EInvoiceFormat.XRECHNUNG_CII, EInvoiceFormat.XRECHNUNG_UBL):
        if not is_leitweg_id(snapshot["buyer_reference"]):
            raise ValidationError(
                _("%(payer)s receives XRechnung, which needs a valid Leitweg-ID (customer record).")
                % {"payer": payer.name},
                code="einvoice_leitweg_id",
            )
        if not (organization.email and organization.phone):
            raise ValidationError(
                _(
                    "XRechnung needs your organization's e-mail address and phone number (organization settings)."
                ),
                code="einvoice_seller_contact",
            )
        if not snapshot["buyer"]["email"]:
            raise ValidationError(
                _("%(payer)s receives XRechnung, which needs the customer's (invoice) e-mail address.")
                % {"payer": payer.name},
                code="einvoice_buyer_email",
            )
    document.einvoice = snapshot
