import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from organizations.validators import (
    validate_bic,
    validate_creditor_id,
    validate_iban,
    validate_postal_code,
    validate_vat_id,
)


@pytest.mark.parametrize(
    "value", ["DE89370400440532013000", "de89 3704 0044 0532 0130 00", "GB29NWBK60161331926819"]
)
def test_it_accepts_valid_ibans(value):
    validate_iban(value)


@pytest.mark.parametrize("value", ["DE89370400440532013001", "DE8937040044", "XX00", ""])
def test_it_rejects_invalid_ibans_in_german(value):
    with translation.override("de"):
        with pytest.raises(ValidationError) as exc:
            validate_iban(value)
        assert "keine gültige IBAN" in str(exc.value.messages[0])


def test_it_checks_bic_vat_id_and_creditor_id():
    validate_bic("COBADEFFXXX")
    validate_vat_id("DE136695976")
    validate_creditor_id("DE98ZZZ09999999999")
    validate_creditor_id("de98 zzz0 9999 9999 99")
    for bad, validator in [
        ("COBAXX", validate_bic),
        ("DE136695977", validate_vat_id),
        ("DE99ZZZ09999999999", validate_creditor_id),
        ("DE98ZZZ0999999999", validate_creditor_id),
    ]:
        with pytest.raises(ValidationError):
            validator(bad)


def test_creditor_id_business_code_is_not_part_of_the_checksum():
    # EPC rule: the three characters after the check digits may be anything.
    validate_creditor_id("DE98ABC09999999999")


def test_it_checks_german_postal_codes_only():
    validate_postal_code("01067")
    validate_postal_code("1010", country="AT")
    with pytest.raises(ValidationError):
        validate_postal_code("1234")
    with pytest.raises(ValidationError):
        validate_postal_code("1234a")
