"""Text for SEPA files: the character set German banks accept, and their field lengths.

The EPC rulebook guarantees only the Latin basic set in SEPA messages; German banks
(DFÜ-Abkommen, Anlage 3) accept exactly these characters and reject or mangle the rest,
so every name and text is transliterated before it goes into a file: umlauts the German
way (ä -> ae, ß -> ss), other letters by their closest ASCII form, anything else that is
not allowed becomes a space.
"""

from __future__ import annotations

import re

from text_unidecode import unidecode

# Letters, digits, space and ' : ? , - ( + . ) /
SEPA_CHARS = re.compile(r"[A-Za-z0-9+?/:().,' -]*")
_NOT_SEPA = re.compile(r"[^A-Za-z0-9+?/:().,' -]")

NAME_MAX = 70
REMITTANCE_MAX = 140
ID_MAX = 35

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
_SYMBOLS = str.maketrans({"&": "+", "_": "-", "\n": " ", "\t": " ", "\u2013": "-", "\u2014": "-"})


def sepa_text(value: str, max_length: int = REMITTANCE_MAX) -> str:
    """``value`` in the SEPA character set, whitespace collapsed, cut to ``max_length``."""
    text = (value or "").translate(_GERMAN).translate(_SYMBOLS)
    text = unidecode(text)
    text = _NOT_SEPA.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:max_length].rstrip()


def sepa_id(value: str, max_length: int = ID_MAX) -> str:
    """An identifier (end-to-end id, message id) in the SEPA set, without spaces or "//"."""
    text = sepa_text(value, 200).replace(" ", "-")
    while "//" in text:
        text = text.replace("//", "/")
    return text[:max_length].strip("/") or "NOTPROVIDED"


def reference_problem(value: str) -> str | None:
    """Why ``value`` cannot be a mandate reference (None when it can).

    A mandate reference is at most 35 characters of the SEPA set, does not start or end
    with a space and contains no "//" (EPC rulebook, AT-01)."""
    if not value:
        return "empty"
    if len(value) > ID_MAX:
        return "length"
    if not SEPA_CHARS.fullmatch(value):
        return "chars"
    if value != value.strip():
        return "spaces"
    if "//" in value:
        return "slashes"
    return None


def is_sepa_text(value: str) -> bool:
    return bool(SEPA_CHARS.fullmatch(value or ""))
