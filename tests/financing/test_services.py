from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from financing import services
from financing.models import Financing
from financing.payer import payer_for, payer_for_folder_oneoffs
from organizations.models import AuditEntry
from tests.customers.factories import CustomerFactory
from tests.financing.factories import FinancierFactory, FinancingFactory
from tests.folders.factories import FolderFactory, RecurringLineFactory, add_oneoff

pytestmark = pytest.mark.django_db


def _data(financier, **extra):
    data = {"financier": financier, "lease_term_months": 60, "approval_status": "submitted"}
    data.update(extra)
    return data


def test_it_attaches_a_financing_and_files_it_under_the_folder(org, admin_user):
    folder = FolderFactory(organization=org)
    financier = FinancierFactory(organization=org)
    financing = services.financing_set(
        folder=folder, user=admin_user, data=_data(financier, monthly_rate=Decimal("388.13"))
    )
    assert financing.folder == folder
    entry = AuditEntry.objects.get(action="financing.added")
    assert entry.object_type == "folders.folder"
    assert entry.object_id == folder.pk
    assert entry.user == admin_user


def test_it_records_old_and_new_values_when_the_financing_changes(org, admin_user):
    financing = FinancingFactory(folder=FolderFactory(organization=org), approval_status="submitted")
    services.financing_set(folder=financing.folder, user=admin_user, data={"approval_status": "approved"})
    entry = AuditEntry.objects.get(action="financing.changed")
    assert entry.data["changes"]["approval_status"] == ["submitted", "approved"]


def test_it_refuses_a_customer_that_is_not_flagged_as_financier(org, admin_user):
    folder = FolderFactory(organization=org)
    plain = CustomerFactory(organization=org, name="Irgendwer GmbH")
    with pytest.raises(ValidationError) as exc:
        services.financing_set(folder=folder, user=admin_user, data=_data(plain))
    assert "nicht als Finanzierer markiert" in str(exc.value.message_dict["financier"])
    assert not Financing.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="financing").exists()


def test_it_refuses_a_financier_of_another_organization(org, other_org, admin_user):
    folder = FolderFactory(organization=org)
    foreign = FinancierFactory(organization=other_org)
    with pytest.raises(ValidationError) as exc:
        services.financing_set(folder=folder, user=admin_user, data=_data(foreign))
    assert "dieser Organisation" in str(exc.value.message_dict["financier"])
    assert not Financing.objects.exists()


def test_it_refuses_the_folders_own_customer_as_financier(org, admin_user):
    customer = FinancierFactory(organization=org)  # a leasing company buying for itself
    folder = FolderFactory(organization=org, customer=customer)
    with pytest.raises(ValidationError) as exc:
        services.financing_set(folder=folder, user=admin_user, data=_data(customer))
    assert "eigene Kunde" in str(exc.value.message_dict["financier"])
    assert not Financing.objects.exists()


def test_it_refuses_a_negative_lease_rate(org, admin_user):
    folder = FolderFactory(organization=org)
    with pytest.raises(ValidationError):
        services.financing_set(
            folder=folder,
            user=admin_user,
            data=_data(FinancierFactory(organization=org), monthly_rate=Decimal("-1")),
        )
    assert not Financing.objects.exists()


def test_it_refuses_to_remove_a_financing_that_does_not_exist(org, admin_user):
    with pytest.raises(ValidationError):
        services.financing_remove(folder=FolderFactory(organization=org), user=admin_user)


def test_payer_is_the_customer_for_an_unfinanced_folder(org):
    folder = FolderFactory(organization=org)
    line = add_oneoff(folder)
    assert payer_for(line) == folder.customer


def test_payer_is_the_financier_for_one_off_lines_of_a_financed_folder(org):
    financing = FinancingFactory(folder=FolderFactory(organization=org))
    line = add_oneoff(financing.folder)
    assert payer_for(line) == financing.financier


def test_payer_is_the_end_customer_once_the_financier_rejected_the_financing(org):
    financing = FinancingFactory(folder=FolderFactory(organization=org), approval_status="rejected")
    line = add_oneoff(financing.folder)
    assert payer_for(line) == financing.folder.customer
    assert payer_for_folder_oneoffs(financing.folder) == {line.pk: financing.folder.customer}


def test_payer_is_always_the_customer_for_recurring_lines(org):
    financing = FinancingFactory(folder=FolderFactory(organization=org))
    line = RecurringLineFactory(folder=financing.folder)
    assert payer_for(line) == financing.folder.customer


def test_payer_refuses_anything_that_is_not_a_folder_line(org):
    with pytest.raises(TypeError):
        payer_for(FolderFactory(organization=org))


def test_payer_for_folder_oneoffs_delegates_to_payer_for(org):
    financing = FinancingFactory(folder=FolderFactory(organization=org))
    lines = [add_oneoff(financing.folder), add_oneoff(financing.folder, is_equipment=False)]
    assert payer_for_folder_oneoffs(financing.folder) == {line.pk: financing.financier for line in lines}


def _invoice(line, pk=77, number="RE-2026-000077"):
    from folders.services import oneoff_lines_mark_invoiced

    class Invoice:
        pass

    Invoice.pk, Invoice.number, Invoice.issue_date = pk, number, None
    oneoff_lines_mark_invoiced(lines=[line], document=Invoice)


def test_who_pays_invoiced_hardware_cannot_be_changed_afterwards(org, admin_user):
    financing = FinancingFactory(folder=FolderFactory(organization=org), approval_status="approved")
    folder, financier_id = financing.folder, financing.financier_id
    line = add_oneoff(folder, user=admin_user, is_equipment=False)
    _invoice(line)
    other = FinancierFactory(organization=org, name="Andere Leasing AG")
    with pytest.raises(ValidationError, match="RE-2026-000077"):
        services.financing_set(folder=folder, user=admin_user, data={"financier": other})
    with pytest.raises(ValidationError, match="bereits abgerechnet"):
        services.financing_remove(folder=folder, user=admin_user)
    # Terms the invoice does not depend on may still change.
    services.financing_set(folder=folder, user=admin_user, data={"notes": "Übergabeprotokoll liegt vor"})
    financing.refresh_from_db()
    assert (financing.financier_id, financing.notes) == (financier_id, "Übergabeprotokoll liegt vor")
    assert Financing.objects.filter(folder=folder).exists()


def test_the_contract_data_of_invoiced_hardware_stays_as_invoiced(org, admin_user):
    financing = FinancingFactory(
        folder=FolderFactory(organization=org), approval_status="approved", contract_reference="GR-4711"
    )
    folder = financing.folder
    _invoice(add_oneoff(folder, user=admin_user, is_equipment=False))
    other = FinancierFactory(organization=org, name="Andere Leasing AG")
    for data in ({"contract_reference": "GR-4712"}, {"lease_term_months": 36}, {"financier": other}):
        with pytest.raises(ValidationError) as exc:
            services.financing_set(folder=folder, user=admin_user, data=data)
        [field] = data
        assert "RE-2026-000077" in exc.value.message_dict[field][0]
        assert "stornieren" in exc.value.message_dict[field][0].lower()
    stored = Financing.objects.get(pk=financing.pk)
    assert (stored.contract_reference, stored.lease_term_months, stored.financier_id) == (
        "GR-4711",
        financing.lease_term_months,
        financing.financier_id,
    )
    assert not AuditEntry.objects.filter(action="financing.changed").exists()
    # Unchanged values pass (the form sends every field back).
    services.financing_set(
        folder=folder,
        user=admin_user,
        data={
            "contract_reference": "GR-4711",
            "lease_term_months": financing.lease_term_months,
            "notes": "ok",
        },
    )


def test_cancelling_the_invoice_releases_the_contract_data(org, admin_user):
    from folders.services import oneoff_lines_unmark_invoiced

    financing = FinancingFactory(folder=FolderFactory(organization=org), contract_reference="GR-4711")
    _invoice(add_oneoff(financing.folder, user=admin_user, is_equipment=False))
    oneoff_lines_unmark_invoiced(document_id=77)
    services.financing_set(folder=financing.folder, user=admin_user, data={"contract_reference": "GR-4712"})
    financing.refresh_from_db()
    assert financing.contract_reference == "GR-4712"


def test_no_financing_is_added_once_the_customer_was_invoiced_the_hardware(org, admin_user):
    folder = FolderFactory(organization=org)
    _invoice(add_oneoff(folder, user=admin_user, is_equipment=False), pk=78, number="RE-2026-000078")
    with pytest.raises(ValidationError, match="RE-2026-000078"):
        services.financing_set(folder=folder, user=admin_user, data=_data(FinancierFactory(organization=org)))
    assert not Financing.objects.exists()


def test_a_financier_with_financings_keeps_its_flag(org, admin_user):
    from customers.services import customer_update

    financing = FinancingFactory(folder=FolderFactory(organization=org))
    financier = financing.financier
    with pytest.raises(ValidationError) as exc:
        customer_update(customer=financier, user=admin_user, data={"is_financier": False})
    assert financing.folder.number in exc.value.message_dict["is_financier"][0]
    financier.refresh_from_db()
    assert financier.is_financier
    financing.delete()
    customer_update(customer=financier, user=admin_user, data={"is_financier": False})
    financier.refresh_from_db()
    assert not financier.is_financier
