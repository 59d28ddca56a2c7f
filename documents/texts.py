"""The sentences printed on documents, in the recipient's language.

Like the renderer's labels (documents.labels) these are plain dicts keyed by
language instead of gettext: a document is frozen in the *customer's* language at
issuing time, whatever the UI language of the clerk who issued it, and one worker
renders German and English documents one after the other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from documents.engine import format_eur, format_percent
from documents.labels import format_date, format_iban
from documents.tax import VAT_ID_REASONS

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "salutation": "Sehr geehrte Damen und Herren,",
        "salutation_named": "Guten Tag {name},",
        "salutation_mr": "Sehr geehrter Herr {name},",
        "salutation_ms": "Sehr geehrte Frau {name},",
        "intro_quote": "vielen Dank für Ihr Interesse. Gerne bieten wir Ihnen an:",
        "intro_invoice": "für unsere Lieferungen und Leistungen berechnen wir Ihnen:",
        "intro_invoice_financier": (
            "für das unten genannte Leasingobjekt berechnen wir Ihnen vereinbarungsgemäß:"
        ),
        "intro_cancellation": "hiermit stornieren wir die Rechnung {number} vom {date} in voller Höhe:",
        "intro_credit_note": "zu unserer Rechnung {number} vom {date} schreiben wir Ihnen gut:",
        "intro_credit_note_many": "zu unseren Rechnungen {numbers} schreiben wir Ihnen gut:",
        "intro_credit_note_periods": "für bereits abgerechnete Zeiträume schreiben wir Ihnen gut:",
        "intro_delivery_note": "wir liefern Ihnen heute die folgenden Geräte:",
        "closing": "Mit freundlichen Grüßen\n{issuer}",
        "group_oneoff": "Einmalige Kosten",
        "group_recurring": "Laufende Kosten ({cycle})",
        "group_financed": "Finanziert durch {financier} (wird dort in Rechnung gestellt)",
        "financed_tax_note": "Für die an {financier} berechneten Positionen: {note}",
        "group_oneoff_customer": "Von Ihnen einmalig zu zahlen",
        "group_recurring_customer": "Von Ihnen laufend zu zahlen ({cycle})",
        "quote_terms": "Dieses Angebot ist gültig bis zum {valid_until}.",
        "quote_terms_min_term": "Mindestvertragslaufzeit der laufenden Leistungen: {months} Monate.",
        "quote_financed": "Die Hardware wird über {financier} finanziert und von uns direkt mit {financier} abgerechnet.",
        "payment_transfer": (
            "Bitte überweisen Sie den Betrag von {amount} bis zum {due} ohne Abzug auf unser Konto "
            "IBAN {iban}{bic} unter Angabe der Rechnungsnummer {number}."
        ),
        "payment_transfer_no_bank": (
            "Bitte zahlen Sie den Betrag von {amount} bis zum {due} ohne Abzug unter Angabe der "
            "Rechnungsnummer {number}."
        ),
        "payment_direct_debit": (
            "Den Betrag von {amount} ziehen wir frühestens am {due} per SEPA-Lastschrift von Ihrem Konto {account} ein. "
            "Mandatsreferenz: {mandate}, Gläubiger-Identifikationsnummer: {creditor_id}. "
            "Bitte sorgen Sie für ausreichende Deckung."
        ),
        "payment_credit": (
            "Den Betrag von {amount} erstatten wir Ihnen auf Ihr Konto oder verrechnen ihn mit offenen Rechnungen."
        ),
        "tax_eu_reverse_charge": (
            "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge): Die Umsatzsteuer schuldet der "
            "Leistungsempfänger (§ 13b UStG, Art. 196 MwStSystRL)."
        ),
        "tax_eu_goods": "Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1b i. V. m. § 6a UStG).",
        "tax_vat_ids": "Unsere USt-IdNr.: {ours}, Ihre USt-IdNr.: {theirs}.",
        "tax_positions": "Pos. {positions}: {note}",
        "tax_position": "Pos. {positions}: {note}",
        "tax_small_business": "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.",
        "tax_export_goods": "Steuerfreie Ausfuhrlieferung (§ 4 Nr. 1a i. V. m. § 6 UStG).",
        "tax_non_eu_services": "Nicht im Inland steuerbare Leistung (§ 3a Abs. 2 UStG).",
        "tax_exempt_4_8": "Steuerfreie Leistung nach § 4 Nr. 8 UStG (Umsätze im Geld- und Kreditverkehr).",
        "tax_exempt_4_11": (
            "Steuerfreie Leistung nach § 4 Nr. 11 UStG (Leistungen als Versicherungsvertreter oder -makler)."
        ),
        "tax_exempt_4_12": (
            "Steuerfreie Leistung nach § 4 Nr. 12 UStG (Vermietung und Verpachtung von Grundstücken)."
        ),
        "tax_exempt_4_14": (
            "Steuerfreie Leistung nach § 4 Nr. 14 UStG (Heilbehandlung im Bereich der Humanmedizin)."
        ),
        "tax_exempt_4_21": (
            "Steuerfreie Leistung nach § 4 Nr. 21 UStG (unmittelbar dem Schul- und Bildungszweck dienende Leistung)."
        ),
        "serial": "Seriennummer: {serial}",
        "serials": "Seriennummern: {serials}",
        "model": "Modell: {model}",
        "warranty": "Garantie bis: {date}",
        "no_serial": "ohne Seriennummer",
        "since": "ab {date}",
        "period": "Leistungszeitraum {start} – {end}",
        "ref_cancels": "Stornorechnung zu Rechnung {number} vom {date}",
        "ref_credits": "Rechnungskorrektur zu Rechnung {number} vom {date}",
        "ref_reason": "Grund: {reason}",
        "ref_supersedes": "Ersetzt Angebot {number} vom {date}",
        "credit_amount_line": "Korrekturbetrag zu Rechnung {number}",
        "setup_line": "Einrichtung: {title}",
        "folder": "{number} {name}",
        "delivered_on": "Geliefert am {date}",
        "delivered_between": "Geliefert vom {start} bis {end}",
        "advance_title": "Vorausrechnung Nr. {number}",
        "advance_note": (
            "Vorausrechnung: Die Lieferung ist noch nicht erfolgt. Das Lieferdatum (Leistungsdatum) steht auf "
            "dem Lieferschein, der mit der Lieferung folgt."
        ),
        "advance_supply": "mit der Lieferung (siehe Lieferschein)",
    },
    "en": {
        "salutation": "Dear Sir or Madam,",
        "salutation_named": "Dear {name},",
        "salutation_mr": "Dear Mr {name},",
        "salutation_ms": "Dear Ms {name},",
        "intro_quote": "thank you for your interest. We are pleased to offer:",
        "intro_invoice": "for our deliveries and services we charge:",
        "intro_invoice_financier": "as agreed, we charge for the leased object named below:",
        "intro_cancellation": "we hereby cancel invoice {number} of {date} in full:",
        "intro_credit_note": "regarding our invoice {number} of {date} we credit you:",
        "intro_credit_note_many": "regarding our invoices {numbers} we credit you:",
        "intro_credit_note_periods": "for periods already billed we credit you:",
        "intro_delivery_note": "today we deliver the following equipment:",
        "closing": "Kind regards\n{issuer}",
        "group_oneoff": "One-off charges",
        "group_recurring": "Recurring charges ({cycle})",
        "group_financed": "Financed by {financier} (invoiced to them)",
        "financed_tax_note": "For the items invoiced to {financier}: {note}",
        "group_oneoff_customer": "Payable by you once",
        "group_recurring_customer": "Payable by you ({cycle})",
        "quote_terms": "This quote is valid until {valid_until}.",
        "quote_terms_min_term": "Minimum term of the recurring services: {months} months.",
        "quote_financed": "The hardware is financed by {financier} and invoiced directly to {financier}.",
        "payment_transfer": (
            "Please transfer {amount} by {due} without deduction to our account IBAN {iban}{bic}, "
            "quoting invoice number {number}."
        ),
        "payment_transfer_no_bank": "Please pay {amount} by {due} without deduction, quoting invoice number {number}.",
        "payment_direct_debit": (
            "We will collect {amount} on {due} at the earliest by SEPA direct debit from your account {account}. "
            "Mandate reference: {mandate}, creditor identifier: {creditor_id}. "
            "Please ensure sufficient funds."
        ),
        "payment_credit": "We will refund {amount} to your account or set it off against open invoices.",
        "tax_eu_reverse_charge": (
            "Reverse charge: VAT is payable by the recipient of the supply (Art. 196 VAT Directive, "
            "§ 13b UStG)."
        ),
        "tax_eu_goods": (
            "Tax-free intra-Community supply of goods (§ 4 No. 1b in conjunction with § 6a UStG, "
            "Art. 138 VAT Directive)."
        ),
        "tax_vat_ids": "Our VAT ID: {ours}, your VAT ID: {theirs}.",
        "tax_positions": "Items {positions}: {note}",
        "tax_position": "Item {positions}: {note}",
        "tax_small_business": "No VAT is charged: small business under § 19 UStG.",
        "tax_export_goods": (
            "Tax-free export supply (§ 4 No. 1a in conjunction with § 6 UStG, Art. 146 VAT Directive)."
        ),
        "tax_non_eu_services": "Service not taxable in Germany (§ 3a (2) UStG).",
        "tax_exempt_4_8": "VAT-exempt supply under § 4 No. 8 UStG (financial services).",
        "tax_exempt_4_11": "VAT-exempt supply under § 4 No. 11 UStG (services of insurance agents and brokers).",
        "tax_exempt_4_12": "VAT-exempt supply under § 4 No. 12 UStG (letting of land and buildings).",
        "tax_exempt_4_14": "VAT-exempt supply under § 4 No. 14 UStG (medical care).",
        "tax_exempt_4_21": (
            "VAT-exempt supply under § 4 No. 21 UStG (services directly serving school and educational purposes)."
        ),
        "serial": "Serial number: {serial}",
        "serials": "Serial numbers: {serials}",
        "model": "Model: {model}",
        "warranty": "Warranty until: {date}",
        "no_serial": "no serial number",
        "since": "from {date}",
        "period": "Service period {start} – {end}",
        "ref_cancels": "Cancellation of invoice {number} of {date}",
        "ref_credits": "Correction of invoice {number} of {date}",
        "ref_reason": "Reason: {reason}",
        "ref_supersedes": "Supersedes quote {number} of {date}",
        "credit_amount_line": "Correction amount for invoice {number}",
        "setup_line": "Setup: {title}",
        "folder": "{number} {name}",
        "delivered_on": "Delivered on {date}",
        "delivered_between": "Delivered from {start} to {end}",
        "advance_title": "Advance invoice no. {number}",
        "advance_note": (
            "Advance invoice: the goods have not been delivered yet. The delivery date (date of supply) is "
            "stated on the delivery note that comes with the delivery."
        ),
        "advance_supply": "on delivery (see delivery note)",
    },
}

CYCLES: dict[str, dict[int, str]] = {
    "de": {1: "monatlich", 3: "vierteljährlich", 6: "halbjährlich", 12: "jährlich"},
    "en": {1: "monthly", 3: "quarterly", 6: "half-yearly", 12: "yearly"},
}

# The printed text of each reason documents.tax.line_tax gives for a line.
TAX_REASON_KEYS = {
    "small_business": "tax_small_business",
    "eu_goods": "tax_eu_goods",
    "eu_services": "tax_eu_reverse_charge",
    "export_goods": "tax_export_goods",
    "non_eu_services": "tax_non_eu_services",
    "exempt_4_8": "tax_exempt_4_8",
    "exempt_4_11": "tax_exempt_4_11",
    "exempt_4_12": "tax_exempt_4_12",
    "exempt_4_14": "tax_exempt_4_14",
    "exempt_4_21": "tax_exempt_4_21",
}


def lang_of(language: str) -> str:
    return language if language in TEXTS else "de"


def text(language: str, key: str, **values) -> str:
    return TEXTS[lang_of(language)][key].format(**values)


def cycle_label(language: str, months: int | None) -> str:
    if not months:
        return ""
    labels = CYCLES[lang_of(language)]
    if months in labels:
        return labels[months]
    return f"alle {months} Monate" if lang_of(language) == "de" else f"every {months} months"


def _for_positions(language: str, numbers: Sequence[int], note: str) -> str:
    key = "tax_position" if len(numbers) == 1 else "tax_positions"
    return text(language, key, positions=", ".join(str(n) for n in numbers), note=note)


def tax_note(
    language: str,
    reasons: Sequence[tuple[str, Sequence[int]]],
    *,
    issuer_vat_id: str = "",
    recipient_vat_id: str = "",
) -> str:
    """The note that explains why no German VAT is charged: the reasons
    (documents.tax.reasons_by_position) with the positions each covers.

    One reason is printed for the whole document; several name their positions (an EU
    customer buying goods and services: the goods are a tax-free intra-community supply,
    the services fall under the reverse charge). A note for an EU business names our and
    the customer's VAT ID (§ 14a UStG).
    """
    notes = [text(language, TAX_REASON_KEYS[key]) for key, _positions in reasons]
    if len(reasons) > 1:
        notes = [
            _for_positions(language, positions, note)
            for (_key, positions), note in zip(reasons, notes, strict=True)
        ]
    if any(key in VAT_ID_REASONS for key, _positions in reasons) and (issuer_vat_id or recipient_vat_id):
        notes.append(text(language, "tax_vat_ids", ours=issuer_vat_id or "–", theirs=recipient_vat_id or "–"))
    return "\n".join(notes)


def date(language: str, value: dt.date | None) -> str:
    return format_date(value, lang_of(language)) if value else ""


def eur(language: str, amount: Decimal) -> str:
    return format_eur(amount, lang_of(language))


def percent(language: str, value: Decimal) -> str:
    return format_percent(value, lang_of(language))


def masked_iban(iban: str) -> str:
    """The debtor's IBAN on a pre-notification: country, check digits and last four only."""
    compact = "".join((iban or "").split()).upper()
    if len(compact) < 8:
        return format_iban(compact)
    return f"{compact[:4]} **** **** {compact[-4:]}"


def split_description(text: str) -> tuple[str, str]:
    """Folder lines keep "name\\ndescription"; the first line is the printed title."""
    head, _sep, rest = (text or "").strip().partition("\n")
    return head.strip(), rest.strip()


def join_lines(*parts: str) -> str:
    return "\n".join(p for p in parts if p)
