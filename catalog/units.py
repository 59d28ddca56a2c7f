"""Units as codes, labelled at display in the reader's (or the document's) language.

Products, folder lines and document lines store a unit code (`Unit`); the word is chosen
when shown, with the quantity, so a page or PDF reads "1 Monat", "3 Monate", "3 pieces".
A unit that is no code (typed by hand before units were codes) is shown as it was stored.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import translation
from django.utils.translation import npgettext

# Plural forms per code (msgctxt "unit" keeps them apart from the choice labels).
_FORMS = {
    "piece": lambda n: npgettext("unit", "piece", "pieces", n),
    "hour": lambda n: npgettext("unit", "hour", "hours", n),
    "month": lambda n: npgettext("unit", "month", "months", n),
    "year": lambda n: npgettext("unit", "year", "years", n),
    "page": lambda n: npgettext("unit", "page", "pages", n),
    "licence": lambda n: npgettext("unit", "licence", "licences", n),
    "line": lambda n: npgettext("unit", "line", "lines", n),
    "flat": lambda n: npgettext("unit", "flat rate", "flat rate", n),
}

# The words stored before units were codes (German document lines, older exports), by code.
KNOWN_WORDS = {
    "piece": ["stk", "stk.", "stück", "stueck", "st", "st.", "pc", "pc.", "pcs", "pcs.", "piece", "pieces"],
    "hour": ["std", "std.", "stunde", "stunden", "h", "hour", "hours"],
    "month": ["monat", "monate", "mon.", "month", "months"],
    "year": ["jahr", "jahre", "year", "years"],
    "page": ["seite", "seiten", "page", "pages"],
    "licence": ["lizenz", "lizenzen", "licence", "licences", "license", "licenses"],
    "line": ["anschluss", "anschlüsse", "line", "lines"],
    "flat": ["pauschal", "pauschale", "psch.", "pausch.", "flat", "flat rate"],
}
_BY_WORD = {word: code for code, words in KNOWN_WORDS.items() for word in words}


def unit_code(word: str) -> str:
    """The code of a stored unit word ("Stk." -> "piece"); unknown words stay as they are."""
    return _BY_WORD.get((word or "").strip().lower(), word or "")


def _count(quantity) -> int:
    """The number the plural rule is asked about: 1 is singular, any other amount
    (0, 2,5, 3) plural, as German and English say "2,5 Stunden", "0 pieces"."""
    try:
        return 1 if Decimal(str(quantity)) == 1 else 2
    except ArithmeticError:
        return 2


def unit_label(code: str, quantity, language: str | None = None) -> str:
    """The unit's word for `quantity` in `language` (default: the active one)."""
    forms = _FORMS.get(code or "")
    if forms is None:
        return code or ""
    if language is None:
        return forms(_count(quantity))
    with translation.override(language):
        return forms(_count(quantity))
