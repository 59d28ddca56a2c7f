"""Validators for German and SEPA identifiers, shared by every form that takes them.

Messages are translated (German by default) and name what is wrong, so a clerk can fix
the field without calling support.
"""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.iso7064 import mod_97_10

from .countries import COUNTRIES, EU_COUNTRIES


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


def bic_for_iban(iban: str, bic: str) -> str:
    """The BIC to store with ``iban``: the one entered, or the bank's own when left empty.

    A direct debit or transfer sent with the BIC of another bank bounces (and costs a
    return fee), so when schwifty's registry knows the IBAN's bank, the BIC must be one
    registered for that bank's code. Banks schwifty does not know are taken on trust.
    """
    bic = re.sub(r"\s+", "", bic or "").upper()
    try:
        account = IBAN(normalize_iban(iban))
        expected = account.bic
    except SchwiftyException:
        return bic
    if expected is None:
        return bic
    if not bic:
        return str(expected)
    try:
        entered = BIC(bic)
    except SchwiftyException:
        return bic  # the field's own validator names the broken BIC
    # The primary 8 characters name the institution and location; a bank code may also be
    # registered under a branch BIC, which the registry lists with its bank codes.
    if str(entered)[:8] == str(expected)[:8] or account.bank_code in entered.domestic_bank_codes:
        return bic
    raise ValidationError(
        _("The BIC %(bic)s does not belong to the bank of this IBAN (%(bank)s, BIC %(expected)s)."),
        code="bic_iban_mismatch",
        params={"bic": bic, "bank": account.bank_name or account.bank_code, "expected": str(expected)},
    )


def _phone_region(country: str) -> str | None:
    country = (country or "DE").upper()
    return country if country in phonenumbers.SUPPORTED_REGIONS else None


def normalize_phone(value: str, country: str = "DE") -> str:
    """A phone number in E.164 (``+4930123456``), read as dialled in ``country``.

    One stored form lets the number be dialled from a page (tel: links), found by search
    and shown formatted for the reader, whatever spacing the clerk typed.
    """
    text = (value or "").strip()
    if not text:
        return ""
    params = {"value": text, "country": _country_name((country or "DE").upper())}
    try:
        number = phonenumbers.parse(text, _phone_region(country))
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _(
                "“%(value)s” is not a valid phone number for %(country)s: enter it with the area "
                "code (030 1234567) or in international form (+49 30 1234567)."
            ),
            code="invalid_phone",
            params=params,
        )
    if number.extension:
        # E.164 has no extension; in Germany the extension is dialled as part of the number.
        raise ValidationError(
            _("Enter the extension as part of the number (e.g. 030 1234567-12), not separately."),
            code="phone_extension",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_to_e164(value: str, country: str = "DE") -> str:
    """``value`` in E.164 when it is a valid number, otherwise unchanged (for stored data)."""
    try:
        return normalize_phone(value, country)
    except ValidationError:
        return value


def format_phone(value: str, home_country: str = "DE") -> str:
    """A stored number for reading: national form for numbers of ``home_country`` (the
    organization's), international form for all others; text that is no E.164 number
    (entered before numbers were checked) is shown as it was typed."""
    text = (value or "").strip()
    if not text.startswith("+"):
        return text
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_valid_number(number):
        return text
    home = (home_country or "DE").upper()
    if phonenumbers.region_code_for_number(number) == home:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# A scheme is letters before a colon; "www.example.de:8080" has a port, not a scheme.
_URL_SCHEME = re.compile(r"([a-z][a-z0-9+\-]*):(?!\d)", re.IGNORECASE)
WEBSITE_SCHEMES = ("http", "https")


def normalize_website(value: str) -> str:
    """A website as a full http(s) address; a bare ``www.example.de`` becomes https.

    Websites are shown as links, so any other scheme (``javascript:``, ``data:``) would
    run in the clerk's browser when clicked.
    """
    text = (value or "").strip()
    if not text:
        return ""
    match = _URL_SCHEME.match(text)
    if match is None:
        text = f"https://{text}"
    elif match.group(1).lower() not in WEBSITE_SCHEMES:
        raise ValidationError(
            _("Only web addresses starting with http:// or https:// are allowed."),
            code="invalid_website_scheme",
        )
    else:
        text = match.group(1).lower() + text[len(match.group(1)) :]
    try:
        URLValidator(schemes=list(WEBSITE_SCHEMES))(text)
    except ValidationError:
        raise ValidationError(
            _("“%(value)s” is not a valid web address (e.g. www.example.de)."),
            code="invalid_website",
            params={"value": value.strip()},
        ) from None
    return text


def website_href(value: str) -> str:
    """The link target for a stored website, or "" when it is no safe http(s) address."""
    try:
        return normalize_website(value)
    except ValidationError:
        return ""


def normalize_vat_id(value: str) -> str:
    return re.sub(r"[\s.\-]+", "", value or "").upper()


def validate_vat_id(value: str) -> None:
    """EU VAT identification number (USt-IdNr.), checked by format and check digit."""
    try:
        eu_vat.validate(normalize_vat_id(value))
    except StdnumError:
        raise ValidationError(
            _("“%(value)s” is not a valid VAT ID (e.g. DE136695976)."),
            code="invalid_vat_id",
            params={"value": value},
        )


# VAT IDs carry the ISO country code as prefix, except Greece's (EL).
VAT_ID_PREFIXES = {"GR": "EL"}


def vat_id_prefix(country: str) -> str:
    country = (country or "").upper()
    return VAT_ID_PREFIXES.get(country, country)


def _country_name(country: str) -> str:
    return str(dict(COUNTRIES).get(country, country))


def validate_vat_id_for_country(value: str, country: str) -> None:
    """A customer's VAT number, checked by the rules of the customer's country.

    In the EU every member state's ID is accepted (a company may be registered in
    several). Elsewhere the EU check would refuse every genuine number, so the number is
    checked with python-stdnum's module for that country (CHE…MWST, GB…, NO…MVA) where
    there is one, and otherwise only for a plausible shape.
    """
    country = (country or "DE").upper()
    if country in EU_COUNTRIES:
        validate_vat_id(value)
        return
    vat_id = normalize_vat_id(value)
    params = {"value": value, "country": _country_name(country)}
    module = get_cc_module(country.lower(), "vat") if re.fullmatch(r"[A-Z]{2}", country) else None
    if module is not None:
        try:
            module.validate(vat_id)
        except StdnumError:
            raise ValidationError(
                _("“%(value)s” is not a valid VAT number for %(country)s."),
                code="invalid_vat_id",
                params=params,
            )
    elif not (re.fullmatch(r"[A-Z0-9]{4,20}", vat_id) and re.search(r"\d", vat_id)):
        raise ValidationError(
            _("“%(value)s” does not look like a VAT number for %(country)s (letters and digits)."),
            code="invalid_vat_id",
            params=params,
        )


def validate_reverse_charge_vat_id(value: str, country: str) -> None:
    """The VAT ID that lets an invoice to another EU country go out without German VAT.

    Reverse charge (§13b UStG, §6a UStG for goods) needs the ID the customer holds in
    its own member state: a German ID means the supply is taxed in Germany, and an ID of
    a third country's prefix does not belong to this customer's address.
    """
    vat_id = normalize_vat_id(value)
    country = (country or "").upper()
    if vat_id.startswith("DE"):
        raise ValidationError(
            _(
                "A German VAT ID does not allow EU reverse charge: enter the VAT ID the customer "
                "holds in %(country)s."
            ),
            code="german_vat_id",
            params={"country": _country_name(country)},
        )
    prefix = vat_id_prefix(country)
    if not vat_id.startswith(prefix):
        raise ValidationError(
            _(
                "For EU reverse charge the VAT ID must be from the customer's country: "
                "VAT IDs from %(country)s start with %(prefix)s."
            ),
            code="vat_id_country_mismatch",
            params={"country": _country_name(country), "prefix": prefix},
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


def validate_time_zone(value: str) -> None:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("Unknown time zone: %(zone)s.") % {"zone": value}) from None
