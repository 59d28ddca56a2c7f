from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client
from django_scopes import scope
from django_scopes.exceptions import ScopeError

from customers.models import Customer
from organizations.middleware import SESSION_KEY
from organizations.models import AuditEntry, Membership, NumberFormat, NumberSequence
from organizations.numbering import format_number, number_next, pattern_is_valid
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _settings_data(org, **overrides):
    data = {
        "name": org.name,
        "legal_name": org.legal_name,
        "street": org.street,
        "postal_code": org.postal_code,
        "city": org.city,
        "country": "DE",
        "email": "info@example.com",
        "phone": "",
        "website": "",
        "vat_id": org.vat_id,
        "tax_number": org.tax_number,
        "register_court": org.register_court,
        "register_number": org.register_number,
        "managing_directors": org.managing_directors,
        "bank_name": "Commerzbank",
        "iban": org.iban,
        "bic": org.bic,
        "creditor_id": org.creditor_id,
        "payment_terms_days": "14",
        "billing_day": "1",
    }
    data.update(overrides)
    return data


def test_it_saves_the_organization_settings_with_normalised_identifiers(org, admin_client):
    response = admin_client.post(
        "/organization/settings/",
        _settings_data(org, iban="de89 3704 0044 0532 0130 00", bic="cobadeffxxx", vat_id="de 136 695 976"),
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.iban == "DE89370400440532013000"
    assert org.bic == "COBADEFFXXX"
    assert org.vat_id == "DE136695976"
    entry = AuditEntry.objects.get(organization=org, action="organization.changed")
    assert entry.data["changes"]["bank_name"] == ["", "Commerzbank"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("iban", "DE89370400440532013001", "keine gültige IBAN"),
        ("bic", "XYZ", "keine gültige BIC"),
        ("vat_id", "DE123", "keine gültige USt-IdNr."),
        ("creditor_id", "DE00ZZZ09999999999", "keine gültige Gläubiger-Identifikationsnummer"),
        ("email", "kein-at-zeichen", "gültige E-Mail-Adresse"),
        ("postal_code", "2045", "genau fünf Ziffern"),
        ("billing_day", "31", "zwischen 1 und 28"),
        ("payment_terms_days", "366", "kleiner oder gleich 365"),
    ],
)
def test_it_rejects_bad_settings_in_german_and_saves_nothing(org, admin_client, field, value, message):
    before = (org.iban, org.bic, org.vat_id, org.creditor_id, org.postal_code, org.billing_day)
    response = admin_client.post(
        "/organization/settings/", _settings_data(org, **{field: value, "city": "Neu"})
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert message in errors[field][0]
    assert message in response.content.decode()
    org.refresh_from_db()
    assert org.city == "Berlin"
    assert (org.iban, org.bic, org.vat_id, org.creditor_id, org.postal_code, org.billing_day) == before


def test_only_admins_may_change_the_organization(org, billing_user, readonly_user, client_for):
    for user in (billing_user, readonly_user):
        client = client_for(user)
        assert client.get("/organization/settings/").status_code == 403
        assert client.post("/organization/settings/", _settings_data(org, city="X")).status_code == 403
    org.refresh_from_db()
    assert org.city == "Berlin"


def test_a_user_switches_between_organizations_and_sees_only_the_active_one(
    org, other_org, admin_user, client_for
):
    Membership.objects.create(organization=other_org, user=admin_user, role="readonly")
    Customer.objects.create(organization=org, number="K1", name="Alpha Kopiertechnik")
    Customer.objects.create(organization=other_org, number="K1", name="Beta Telefonbau")
    client = client_for(admin_user)
    session = client.session
    session[SESSION_KEY] = org.pk
    session.save()
    page = client.get("/reports/search/?q=technik")
    assert "Alpha Kopiertechnik" in page.content.decode()
    response = client.post("/organization/switch/", {"organization": other_org.pk, "next": "/"})
    assert response.status_code == 302
    page = client.get("/reports/search/?q=tel")
    assert "Beta Telefonbau" in page.content.decode()
    assert "Alpha Kopiertechnik" not in client.get("/reports/search/?q=Alpha").content.decode()
    # The role follows the organization: read-only in the other one.
    assert client.get("/organization/settings/").status_code == 403


def test_switching_to_a_foreign_organization_is_refused(org, other_org, admin_client):
    assert admin_client.post("/organization/switch/", {"organization": other_org.pk}).status_code == 404
    assert admin_client.post("/organization/switch/", {"organization": "abc"}).status_code == 400
    assert admin_client.session[SESSION_KEY] == org.pk


def test_queries_on_tenant_models_without_a_scope_are_an_error(org):
    with scope(organization=None):
        pass
    from django_scopes import scopes_disabled  # noqa: F401

    with pytest.raises(ScopeError), scope():
        list(Customer.objects.all())
    with scope(organization=org):
        assert list(Customer.objects.all()) == []


def test_failed_logins_are_throttled(org, admin_user, settings):
    client = Client(REMOTE_ADDR="10.9.8.7")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "admin", "password": "wrong"})
    locked = client.post("/accounts/login/", {"username": "admin", "password": PASSWORD})
    assert locked.status_code == 429
    assert "gesperrt" in locked.content.decode()


def test_login_works_and_the_ui_speaks_german_by_default(org, admin_user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US")
    response = client.post("/accounts/login/", {"username": "admin", "password": PASSWORD}, follow=True)
    html = response.content.decode()
    assert "Überfällige Aktionen" in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Overdue actions" in client.get("/").content.decode()


def test_admins_add_members_and_change_roles(org, admin_client, admin_user):
    response = admin_client.post(
        "/organization/members/add/", {"username": "neu", "password": "a-Long-pass-99", "role": "sales"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(organization=org, user__username="neu")
    assert membership.role == "sales"
    admin_client.post(f"/organization/members/{membership.pk}/", {"role": "billing"})
    membership.refresh_from_db()
    assert membership.role == "billing"
    own = Membership.objects.get(organization=org, user=admin_user)
    response = admin_client.post(f"/organization/members/{own.pk}/", {"role": "readonly"})
    assert response.status_code == 200
    own.refresh_from_db()
    assert own.role == "admin"


def test_members_of_other_organizations_cannot_be_edited(org, other_org, outsider, admin_client):
    foreign = Membership.objects.get(user=outsider)
    assert admin_client.get(f"/organization/members/{foreign.pk}/").status_code == 404


def test_number_ranges_are_sequential_per_kind_and_restart_each_year(org):
    with transaction.atomic():
        first = number_next(organization=org, kind="invoice", on=dt.date(2026, 12, 31))
        second = number_next(organization=org, kind="invoice", on=dt.date(2026, 12, 31))
        new_year = number_next(organization=org, kind="invoice", on=dt.date(2027, 1, 1))
        customer = number_next(organization=org, kind="customer", on=dt.date(2027, 1, 1))
    assert (first, second, new_year, customer) == (
        "RE-2026-000001",
        "RE-2026-000002",
        "RE-2027-000001",
        "K00001",
    )


def test_a_rolled_back_number_is_given_back(org):
    with pytest.raises(RuntimeError), transaction.atomic():
        number_next(organization=org, kind="quote", on=dt.date(2026, 5, 1))
        raise RuntimeError("issuing failed after the number was taken")
    with transaction.atomic():
        assert number_next(organization=org, kind="quote", on=dt.date(2026, 5, 1)) == "AN-2026-0001"
    assert NumberSequence.objects.get(organization=org, kind="quote").last_number == 1


@pytest.mark.django_db(transaction=True)
def test_numbers_need_the_issuing_transaction(org):
    with pytest.raises(RuntimeError):
        number_next(organization=org, kind="invoice")


def test_number_patterns_are_configurable(org, admin_client):
    response = admin_client.post("/organization/number-formats/invoice/", {"pattern": "R{year}/{counter:05}"})
    assert response.status_code == 302
    assert NumberFormat.objects.get(organization=org, kind="invoice").pattern == "R{year}/{counter:05}"
    with transaction.atomic():
        assert number_next(organization=org, kind="invoice", on=dt.date(2026, 1, 2)) == "R2026/00001"
    bad = admin_client.post("/organization/number-formats/invoice/", {"pattern": "RE-{year}"})
    assert bad.status_code == 200
    assert "genau einen Platzhalter" in bad.content.decode()
    assert admin_client.get("/organization/number-formats/nonsense/").status_code == 404


def test_pattern_helpers():
    assert pattern_is_valid("LS-{year}-{counter:04}")
    assert not pattern_is_valid("LS-{counter}-{counter}")
    assert not pattern_is_valid("LS-{foo}-{counter}")
    assert not pattern_is_valid("RE-{year:2}-{counter:06}")  # a width on the year is not supported
    assert not pattern_is_valid("RE-{year}-{year}-{counter}")
    assert format_number("LS-{year}-{counter:04}", year=2026, counter=42) == "LS-2026-0042"


def test_settings_history_shows_labels_and_readable_values(org, admin_client):
    admin_client.post(
        "/organization/settings/", _settings_data(org, billing_day="5", country="AT", postal_code="1010")
    )
    page = admin_client.get("/organization/settings/").content.decode()
    assert "Abrechnungstag:</span> 1 → 5" in page
    assert "Land:</span> Deutschland → Österreich" in page
    assert "billing_day:" not in page and "country:" not in page


def test_the_country_is_chosen_from_a_list(org, admin_client):
    response = admin_client.post("/organization/settings/", _settings_data(org, country="Germany"))
    assert response.status_code == 200
    assert "country" in response.context["form"].errors
    org.refresh_from_db()
    assert org.country == "DE"
    page = admin_client.get("/organization/settings/").content.decode()
    assert '<option value="AT">Österreich</option>' in page


def test_english_dates_put_the_day_first():
    from django.utils import translation
    from django.utils.formats import date_format

    with translation.override("en"):
        assert date_format(dt.date(2026, 11, 24), "SHORT_DATE_FORMAT") == "24/11/2026"
        assert date_format(dt.date(2026, 11, 24)) == "24 November 2026"
    with translation.override("de"):
        assert date_format(dt.date(2026, 11, 24), "SHORT_DATE_FORMAT") == "24.11.2026"


def test_the_settings_page_switches_advance_invoices_on_and_off(org, admin_client):
    page = admin_client.get("/organization/settings/").content.decode()
    assert 'name="advance_invoices"' in page and "Vorausrechnung" in page
    assert (
        admin_client.post("/organization/settings/", _settings_data(org, advance_invoices="on")).status_code
        == 302
    )
    org.refresh_from_db()
    assert org.advance_invoices
    assert admin_client.post("/organization/settings/", _settings_data(org)).status_code == 302
    org.refresh_from_db()
    assert not org.advance_invoices


def test_it_records_the_small_business_status_in_the_settings(org, admin_client):
    response = admin_client.post("/organization/settings/", _settings_data(org, small_business="on"))
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.small_business is True
    entry = AuditEntry.objects.get(organization=org, action="organization.changed")
    assert entry.data["changes"]["small_business"] == [False, True]
    page = admin_client.get("/organization/settings/").content.decode()
    assert "Kleinunternehmer (§ 19 UStG)" in page
