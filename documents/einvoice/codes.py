"""The code lists EN 16931 asks for, mapped from ours (pure, no ORM)."""

from __future__ import annotations

# UN/ECE Recommendation 20 for our unit codes (catalog.models.Unit). An empty unit is a
# count ("one"); a unit typed by hand that is no code has no Rec 20 code, and issuing an
# invoice with it is refused (documents.einvoice.checks).
REC20_UNITS = {
    "": "C62",
    "piece": "H87",
    "hour": "HUR",
    "month": "MON",
    "year": "ANN",
    "page": "ZP",
    "licence": "C62",
    "line": "C62",
    "flat": "LS",
}

# UNTDID 5305 VAT category per reason of documents.tax.line_tax ("" = VAT charged).
STANDARD = "S"
CATEGORY_BY_REASON = {
    "": STANDARD,
    "small_business": "E",
    "eu_goods": "K",
    "eu_services": "AE",
    "export_goods": "G",
    "non_eu_services": "O",
}
EXEMPT = "E"

# VATEX codes where the category has exactly one legal ground.
VATEX_BY_CATEGORY = {
    "AE": "VATEX-EU-AE",
    "K": "VATEX-EU-IC",
    "G": "VATEX-EU-G",
    "O": "VATEX-EU-O",
}

# UNTDID 1001
INVOICE = "380"
CREDIT_NOTE = "381"

# UNTDID 4461
PAYMENT_NOT_DEFINED = "1"
PAYMENT_SEPA_TRANSFER = "58"
PAYMENT_SEPA_DIRECT_DEBIT = "59"

# UNTDID 5189: discount
ALLOWANCE_DISCOUNT = "95"


def unit_code(unit: str) -> str | None:
    """The Rec 20 code of a document line's unit (a code, or a word stored before units
    were codes: "Stk.", "Monat"), None when it has none."""
    from catalog.units import unit_code as our_code

    return REC20_UNITS.get(our_code((unit or "").strip()))


def category_for(reason: str) -> str:
    if reason.startswith("exempt_"):
        return EXEMPT
    return CATEGORY_BY_REASON.get(reason, STANDARD)
