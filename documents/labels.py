"""The printed words of a document's form, and how dates and IBANs are written on paper.

The PDF follows the *customer's* language, not the active UI language, and one worker
renders German and English documents one after the other: so these are plain dicts keyed
by language instead of gettext, like the sentences in documents.texts.
"""

from __future__ import annotations

import datetime as dt

LABELS: dict[str, dict[str, str]] = {
    "de": {
        "title_invoice": "Rechnung",
        "title_quote": "Angebot",
        "title_credit_note": "Rechnungskorrektur",
        "title_cancellation": "Stornorechnung",
        "title_delivery_note": "Lieferschein",
        "number_prefix": "Nr.",
        "number_invoice": "Rechnungsnr.",
        "number_quote": "Angebotsnr.",
        "number_credit_note": "Belegnr.",
        "number_delivery_note": "Lieferscheinnr.",
        "date": "Datum",
        "your_vat_id": "Ihre USt-IdNr.",
        "phone": "Telefon",
        "email": "E-Mail",
        "web": "Web",
        "pos": "Pos.",
        "description": "Bezeichnung",
        "quantity": "Menge",
        "unit": "Einheit",
        "unit_price": "Einzelpreis",
        "discount": "Rabatt",
        "vat": "USt",
        "amount": "Gesamt",
        "net_total": "Nettobetrag",
        "vat_on": "zzgl. {rate} USt auf {net}",
        "vat_zero_on": "{rate} USt auf {net}",
        "gross_total": "Gesamtbetrag",
        "oneoff_heading": "Einmalige Kosten",
        "gross_total_oneoff": "Gesamtbetrag einmalig",
        "recurring_heading": "Laufende Kosten {cycle}",
        "gross_total_cycle": "Gesamtbetrag {cycle}",
        "financed_heading": "Finanziert durch {payer} (wird dort in Rechnung gestellt)",
        "gross_total_financed": "Gesamtbetrag an {payer}",
        "oneoff_heading_own": "Von Ihnen einmalig zu zahlen",
        "recurring_heading_own": "Von Ihnen laufend zu zahlen ({cycle})",
        "vat_on_total": "zzgl. USt",
        "page": "Seite",
        "of": "von",
        "managing_directors": "Geschäftsführer",
        "register": "Registergericht",
        "seat": "Sitz der Gesellschaft",
        "vat_id": "USt-IdNr.",
        "tax_number": "Steuernr.",
        "creditor_id": "Gläubiger-ID",
        "iban": "IBAN",
        "bic": "BIC",
        "bank": "Bankverbindung",
        "delivery_address": "Lieferanschrift",
        "leased_object": "Angaben zum Leasingobjekt",
        "end_customer": "Nutzer (Leasingnehmer)",
        "folder": "Ordner",
        "site": "Standort",
        "contract_reference": "Vertrag / Referenz",
        "serial_numbers": "Seriennummern",
        "received": "Ware vollständig und in einwandfreiem Zustand erhalten.",
        "date_place_signature": "Ort, Datum",
        "signature": "Unterschrift / Name in Druckbuchstaben",
    },
    "en": {
        "title_invoice": "Invoice",
        "title_quote": "Quote",
        "title_credit_note": "Credit note (invoice correction)",
        "title_cancellation": "Cancellation invoice",
        "title_delivery_note": "Delivery note",
        "number_prefix": "No.",
        "number_invoice": "Invoice no.",
        "number_quote": "Quote no.",
        "number_credit_note": "Document no.",
        "number_delivery_note": "Delivery note no.",
        "date": "Date",
        "your_vat_id": "Your VAT ID",
        "phone": "Phone",
        "email": "Email",
        "web": "Web",
        "pos": "Item",
        "description": "Description",
        "quantity": "Qty",
        "unit": "Unit",
        "unit_price": "Unit price",
        "discount": "Discount",
        "vat": "VAT",
        "amount": "Amount",
        "net_total": "Net amount",
        "vat_on": "plus {rate} VAT on {net}",
        "vat_zero_on": "{rate} VAT on {net}",
        "gross_total": "Total amount",
        "oneoff_heading": "One-off charges",
        "gross_total_oneoff": "Total one-off",
        "recurring_heading": "Recurring charges {cycle}",
        "gross_total_cycle": "Total {cycle}",
        "financed_heading": "Financed by {payer} (invoiced to them)",
        "gross_total_financed": "Total invoiced to {payer}",
        "oneoff_heading_own": "Payable by you once",
        "recurring_heading_own": "Payable by you ({cycle})",
        "vat_on_total": "plus VAT",
        "page": "Page",
        "of": "of",
        "managing_directors": "Managing directors",
        "register": "Commercial register",
        "seat": "Registered office",
        "vat_id": "VAT ID",
        "tax_number": "Tax no.",
        "creditor_id": "Creditor ID",
        "iban": "IBAN",
        "bic": "BIC",
        "bank": "Bank details",
        "delivery_address": "Delivery address",
        "leased_object": "Leased object",
        "end_customer": "User (lessee)",
        "folder": "Folder",
        "site": "Site",
        "contract_reference": "Contract / reference",
        "serial_numbers": "Serial numbers",
        "received": "Goods received complete and in good condition.",
        "date_place_signature": "Place, date",
        "signature": "Signature / name in block letters",
    },
}

# Keys the model layer may use as labels in ``PdfDocument.info``.
INFO_LABELS: dict[str, dict[str, str]] = {
    "de": {
        "customer_number": "Kundennr.",
        "due_date": "Fällig am",
        "reference": "Ihre Referenz",
        "order_number": "Ihre Bestellnr.",
        "service_period": "Leistungszeitraum",
        "service_date": "Leistungsdatum",
        "delivery_date": "Lieferdatum",
        "valid_until": "Gültig bis",
        "contact": "Ansprechpartner",
        "invoice_number": "Zu Rechnung",
        "mandate_reference": "Mandatsreferenz",
        "payment_terms": "Zahlungsziel",
        "folder": "Ordner",
    },
    "en": {
        "customer_number": "Customer no.",
        "due_date": "Due date",
        "reference": "Your reference",
        "order_number": "Your order no.",
        "service_period": "Service period",
        "service_date": "Date of supply",
        "delivery_date": "Delivery date",
        "valid_until": "Valid until",
        "contact": "Contact",
        "invoice_number": "Relates to invoice",
        "mandate_reference": "Mandate reference",
        "payment_terms": "Payment terms",
        "folder": "Folder",
    },
}

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(value: dt.date, lang: str = "de") -> str:
    """``24.11.2026`` in German; ``24 Nov 2026`` in English (unambiguous in the UK and the US)."""
    if lang == "de":
        return f"{value.day:02d}.{value.month:02d}.{value.year}"
    return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"


def format_iban(iban: str) -> str:
    """IBAN in groups of four, as printed on paper (DIN 5008)."""
    compact = "".join(iban.split()).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
