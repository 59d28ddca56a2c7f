"""Validators for German and SEPA identifiers, shared by every form that takes them.

Messages are translated (German by default) and name what is wrong, so a clerk can fix
the field without calling support.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.iso7064 import mod_97_10


def normalize_iban(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def validate_iban(value: str) -> None:
    try:
        IBAN(normalize_iban(value))
    except SchwiftyException:
        raise ValidationError(
            _("“%(value)s” is not a valid IBAN (check the country code, length and check digits)."),
            code="invalid_iban",
            params={"value": value},
        )


def validate_bic(value: str) -> None:
    try:
        BIC(re.sub(r"\s+", "", value or "").upper())
    except SchwiftyException:
        raise ValidationError(
            _("“%(value)s” is not a valid BIC (8 or 11 characters, e.g. COBADEFFXXX)."),
            code="invalid_bic",
            params={"value": value},
        )


def normalize_vat_id(value: str) -> str:
    return re.sub(r"[\s.\-]+", "", value or "").upper()


def validate_vat_id(value: str) -> None:
    """EU VAT identification number (USt-IdNr.), checked by format and check digit."""
    try:
        eu_vat.validate(normalize_vat_id(value))
    except StdnumError:
        raise ValidationError(
            _("“%(value)s” is not a valid VAT ID (e.g. DE123456789)."),
            code="invalid_vat_id",
            params={"value": value},
        )


def normalize_creditor_id(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def validate_creditor_id(value: str) -> None:
    """SEPA creditor identifier (Gläubiger-ID), e.g. DE98ZZZ09999999999.

    Layout: country code, two check digits, a three-character business code that is not
    part of the checksum, then the national identifier. The check digits are ISO 7064
    MOD 97-10 over national identifier + country code + "00" (EPC262-08).
    """
    cid = normalize_creditor_id(value)
    message = _("“%(value)s” is not a valid SEPA creditor identifier (e.g. DE98ZZZ09999999999).")
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}", cid):
        raise ValidationError(message, code="invalid_creditor_id", params={"value": value})
    if cid.startswith("DE") and len(cid) != 18:
        raise ValidationError(message, code="invalid_creditor_id", params={"value": value})
    if not mod_97_10.is_valid(cid[7:] + cid[:4]):
        raise ValidationError(message, code="invalid_creditor_id", params={"value": value})


def validate_postal_code(value: str, country: str = "DE") -> None:
    if country == "DE" and not re.fullmatch(r"\d{5}", (value or "").strip()):
        raise ValidationError(
            _("A German postal code has exactly five digits."),
            code="invalid_postal_code",
        )
