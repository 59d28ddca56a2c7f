"""Number patterns are checked on save so that they can never break issuing later."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from customers import services as customer_services
from customers.models import Customer
from organizations import services
from organizations.models import AuditEntry, NumberFormat, NumberSequence
from organizations.numbering import number_next, pattern_problems, patterns_overlap

pytestmark = pytest.mark.django_db

URL = "/organization/number-formats/{kind}/"


def _set(org, admin_user, kind, pattern):
    return services.number_format_set(organization=org, actor=admin_user, kind=kind, pattern=pattern)


def _new_customer(org, admin_user, name="Alpha GmbH"):
    return customer_services.customer_create(organization=org, user=admin_user, data={"name": name})


def _refused(admin_client, kind, pattern) -> str:
    response = admin_client.post(URL.format(kind=kind), {"pattern": pattern})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("pattern", ["K{counter:60}", "K{counter:13}", "K{counter:0}", "{counter:999999999}"])
def test_it_refuses_a_counter_wider_than_twelve_or_without_width(org, admin_client, pattern):
    page = _refused(admin_client, "customer", pattern)
    assert "Der Zähler darf 1 bis 12 Stellen haben" in page
    assert not NumberFormat.objects.filter(organization=org).exists()
    assert not AuditEntry.objects.filter(organization=org, action="number_format.changed").exists()


def test_it_accepts_a_twelve_digit_counter(org, admin_client):
    response = admin_client.post(URL.format(kind="invoice"), {"pattern": "R{counter:12}"})
    assert response.status_code == 302
    with transaction.atomic():
        assert number_next(organization=org, kind="invoice") == "R000000000001"


def test_it_refuses_a_pattern_whose_numbers_do_not_fit_the_field(org, admin_client, admin_user):
    # Customer numbers have 30 characters; a 10-digit counter makes this one 33 long.
    page = _refused(admin_client, "customer", "Kundennummer-Nord-{year}-{counter:08}")
    assert "bis zu 33 Zeichen lang werden; höchstens 30 passen" in page
    assert not NumberFormat.objects.filter(organization=org).exists()
    # Nothing was consumed: the next customer still gets the first number of the old range.
    assert _new_customer(org, admin_user).number == "K00001"


def test_it_refuses_a_written_out_year(org, admin_client):
    page = _refused(admin_client, "credit_note", "GS-2026-{counter:06}")
    assert "{year} statt einer festen Jahreszahl" in page
    assert not NumberFormat.objects.filter(organization=org).exists()


def test_it_allows_other_four_digit_literals(org, admin_user):
    assert pattern_problems(organization=org, kind="invoice", pattern="R-7000-{counter:06}") == []


def test_it_refuses_the_pattern_of_another_kind(org, admin_client):
    page = _refused(admin_client, "invoice", "AN-{year}-{counter:04}")
    assert "dieselben Nummern erzeugen wie der Nummernkreis „Angebote“" in page
    assert not NumberFormat.objects.filter(organization=org).exists()


def test_it_finds_overlaps_beyond_equal_prefixes():
    assert patterns_overlap("{counter:06}", "{year}{counter:02}")
    assert patterns_overlap("R{counter:04}", "R1{counter:03}")
    assert patterns_overlap("RE-{year}{counter:06}", "RE-{counter}")
    assert not patterns_overlap("RE-{year}-{counter:06}", "RE-{counter}")
    assert not patterns_overlap("RE-{year}-{counter:06}", "GS-{year}-{counter:06}")
    assert not patterns_overlap("R{year}/{counter:05}", "R{counter:05}")


def test_it_refuses_an_overlap_with_a_configured_pattern(org, admin_user):
    _set(org, admin_user, "quote", "{year}{counter:02}")
    with pytest.raises(ValidationError) as exc:
        _set(org, admin_user, "invoice", "{counter:06}")
    assert "pattern" in exc.value.message_dict
    assert NumberFormat.objects.get(organization=org).kind == "quote"


def test_it_refuses_a_year_switch_that_would_reissue_a_number(org, admin_user):
    _set(org, admin_user, "customer", "K{year}{counter:02}")
    first = _new_customer(org, admin_user)
    assert first.number == f"K{dt.date.today().year}01"
    # Without {year} the counter starts again at 1 and would one day render this number.
    with pytest.raises(ValidationError) as exc:
        _set(org, admin_user, "customer", "K{counter:06}")
    assert first.number in str(exc.value)
    assert NumberFormat.objects.get(organization=org, kind="customer").pattern == "K{year}{counter:02}"


def test_it_refuses_a_pattern_that_reaches_numbers_of_another_kind(org, admin_user):
    _new_customer(org, admin_user)  # K00001
    _set(org, admin_user, "customer", "C{counter:05}")
    with pytest.raises(ValidationError) as exc:
        _set(org, admin_user, "folder", "K{counter:05}")
    assert "K00001" in str(exc.value)


def test_it_allows_a_change_whose_counter_has_passed_the_old_numbers(org, admin_user):
    _set(org, admin_user, "customer", "K-{year}-{counter:03}")
    _new_customer(org, admin_user)
    _new_customer(org, admin_user, name="Beta GmbH")
    # Same counter (the year's), another look: the next number continues after both.
    _set(org, admin_user, "customer", "K-{year}-{counter:05}")
    customer = _new_customer(org, admin_user, name="Gamma GmbH")
    assert customer.number == f"K-{dt.date.today().year}-00003"
    assert NumberSequence.objects.get(organization=org, kind="customer").last_number == 3
    assert Customer.objects.filter(organization=org).count() == 3


def test_the_list_shows_why_a_stored_pattern_is_unusable(org, admin_client):
    # Saved before the checks existed: the list must not render a gigantic example.
    NumberFormat.objects.create(organization=org, kind="customer", pattern="K{counter:999999999}")
    response = admin_client.get("/organization/number-formats/")
    assert response.status_code == 200
    assert "Der Zähler darf 1 bis 12 Stellen haben" in response.content.decode()


def test_a_literal_hash_is_no_digit():
    assert not patterns_overlap("R#{counter:04}", "R1{counter:04}")
    assert patterns_overlap("R#{counter:04}", "R#{year}{counter:02}")
