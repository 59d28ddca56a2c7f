from __future__ import annotations

import pytest
from django.urls import reverse

from financing.models import Financing
from tests.customers.factories import CustomerFactory
from tests.financing.factories import FinancierFactory, FinancingFactory
from tests.folders.factories import FolderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def folder(org):
    return FolderFactory(organization=org, name="Kopierer Zentrale")


def _post(folder, financier, **extra):
    data = {
        "financier": financier.pk if financier else "",
        "lease_term_months": "60",
        "contract_reference": "GR-2026-4711",
        "approval_status": "approved",
        "approval_status_on": "2026-11-02",
        "monthly_rate": "388,13",
        "residual_value": "",
        "insurance": "on",
        "insurance_details": "Elektronikversicherung",
        "notes": "",
    }
    data.update(extra)
    return data


def test_it_offers_only_this_organizations_financiers(org, other_org, admin_client, folder):
    own = FinancierFactory(organization=org, name="GRENKE Leasing AG")
    FinancierFactory(organization=other_org, name="Fremdleasing AG")
    CustomerFactory(organization=org, name="Kein Finanzierer GmbH")
    response = admin_client.get(reverse("financing:edit", args=[folder.pk]))
    assert response.status_code == 200
    choices = list(response.context["form"].fields["financier"].queryset)
    assert choices == [own]
    assert "Fremdleasing" not in response.content.decode()


def test_it_saves_the_financing_and_shows_the_third_party_badge(org, admin_client, folder):
    financier = FinancierFactory(organization=org, name="GRENKE Leasing AG")
    response = admin_client.post(
        reverse("financing:edit", args=[folder.pk]), _post(folder, financier), follow=True
    )
    financing = Financing.objects.get(folder=folder)
    assert financing.financier == financier
    assert str(financing.monthly_rate) == "388.13"
    content = response.content.decode()
    assert "Drittzahler" in content
    assert "GRENKE Leasing AG" in content


def test_it_refuses_another_organizations_financier_with_a_message(org, other_org, admin_client, folder):
    foreign = FinancierFactory(organization=other_org)
    response = admin_client.post(reverse("financing:edit", args=[folder.pk]), _post(folder, foreign))
    assert response.status_code == 200
    assert "als Finanzierer markiert" in response.content.decode()
    assert not Financing.objects.exists()


def test_it_refuses_an_unflagged_customer_with_a_message(org, admin_client, folder):
    plain = CustomerFactory(organization=org)
    response = admin_client.post(reverse("financing:edit", args=[folder.pk]), _post(folder, plain))
    assert "als Finanzierer markiert" in response.content.decode()
    assert not Financing.objects.exists()


def test_it_refuses_the_folders_own_customer(org, admin_client):
    customer = FinancierFactory(organization=org)
    folder = FolderFactory(organization=org, customer=customer)
    response = admin_client.post(reverse("financing:edit", args=[folder.pk]), _post(folder, customer))
    assert response.status_code == 200
    assert not Financing.objects.exists()


def test_it_refuses_negative_amounts_and_missing_fields(org, admin_client, folder):
    financier = FinancierFactory(organization=org)
    response = admin_client.post(
        reverse("financing:edit", args=[folder.pk]),
        _post(folder, financier, monthly_rate="-5", lease_term_months="abc"),
    )
    assert response.status_code == 200
    assert "darf nicht negativ sein" in response.content.decode()
    assert not Financing.objects.exists()
    response = admin_client.post(reverse("financing:edit", args=[folder.pk]), {})
    assert response.status_code == 200
    assert not Financing.objects.exists()


def test_it_removes_the_financing(org, admin_client, folder):
    FinancingFactory(folder=folder)
    response = admin_client.post(reverse("financing:remove", args=[folder.pk]))
    assert response.status_code == 302
    assert not Financing.objects.exists()


def test_outsiders_get_404(org, outsider, client_for, folder):
    FinancingFactory(folder=folder)
    client = client_for(outsider)
    assert client.get(reverse("financing:edit", args=[folder.pk])).status_code == 404
    assert client.post(reverse("financing:remove", args=[folder.pk])).status_code == 404
    assert Financing.objects.filter(folder=folder).exists()


def test_readonly_and_support_cannot_change_financing(org, readonly_user, support_user, client_for, folder):
    financing = FinancingFactory(folder=folder)
    for user in (readonly_user, support_user):
        client = client_for(user)
        assert client.get(reverse("financing:edit", args=[folder.pk])).status_code == 403
        assert (
            client.post(
                reverse("financing:edit", args=[folder.pk]), _post(folder, financing.financier)
            ).status_code
            == 403
        )
        assert client.post(reverse("financing:remove", args=[folder.pk])).status_code == 403
    assert Financing.objects.filter(folder=folder).exists()


def test_remove_needs_post(admin_client, folder):
    FinancingFactory(folder=folder)
    assert admin_client.get(reverse("financing:remove", args=[folder.pk])).status_code == 405


def test_the_contract_reference_of_invoiced_hardware_is_refused_at_the_field(org, admin_client, folder):
    from folders.services import oneoff_lines_mark_invoiced
    from tests.folders.factories import add_oneoff

    financier = FinancierFactory(organization=org, name="GRENKE Leasing AG")
    url = reverse("financing:edit", args=[folder.pk])
    admin_client.post(url, _post(folder, financier))
    line = add_oneoff(folder, is_equipment=False)

    class Invoice:
        pk, number, issue_date = 91, "RE-2026-000091", None

    oneoff_lines_mark_invoiced(lines=[line], document=Invoice)
    response = admin_client.post(url, _post(folder, financier, contract_reference="GR-2026-9999"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert (
        "RE-2026-000091" in errors["contract_reference"][0]
        and "stornieren" in errors["contract_reference"][0]
    )
    assert "is-invalid" in response.content.decode()
    assert Financing.objects.get(folder=folder).contract_reference == "GR-2026-4711"
