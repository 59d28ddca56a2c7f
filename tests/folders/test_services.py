from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from customers.models import CustomerKind
from folders import services
from folders.models import Folder, FolderStatus, OneOffLine
from organizations.models import AuditEntry
from tests.catalog.factories import EntitlementFactory, ProductFactory, ServicePackageFactory, standard_rate
from tests.customers.factories import CustomerFactory, ProspectFactory
from tests.folders.factories import FolderFactory, add_oneoff

pytestmark = pytest.mark.django_db


def _create(org, user, customer=None, **data):
    customer = customer or CustomerFactory(
        organization=org, street="Jungfernstieg 7", postal_code="20354", city="Hamburg"
    )
    data.setdefault("name", "Kopierer Zentrale")
    return services.folder_create(organization=org, customer=customer, user=user, data=data)


def test_it_numbers_folders_sequentially_per_organization(org, other_org, admin_user):
    first = _create(org, admin_user)
    second = _create(org, admin_user)
    foreign = _create(other_org, None, customer=CustomerFactory(organization=other_org))
    assert (first.number, second.number) == ("O000001", "O000002")
    assert foreign.number == "O000001"


def test_it_copies_the_customers_address_as_delivery_address(org, admin_user):
    folder = _create(org, admin_user)
    assert (folder.delivery_street, folder.delivery_postal_code, folder.delivery_city) == (
        "Jungfernstieg 7",
        "20354",
        "Hamburg",
    )
    assert folder.status == FolderStatus.DRAFT


def test_it_keeps_a_delivery_address_given_for_the_folder(org, admin_user):
    folder = _create(
        org,
        admin_user,
        delivery_street="Am Mittelfelde 80",
        delivery_postal_code="30519",
        delivery_city="Hannover",
    )
    assert folder.delivery_city == "Hannover"
    assert folder.delivery_address_lines[-1] == "30519 Hannover"


def test_it_refuses_a_customer_of_another_organization(org, other_org, admin_user):
    with pytest.raises(ValidationError):
        _create(org, admin_user, customer=CustomerFactory(organization=other_org))
    assert not Folder.objects.exists()


def test_it_refuses_an_end_date_before_the_start_date(org, admin_user):
    with pytest.raises(ValidationError) as exc:
        _create(org, admin_user, start_date=dt.date(2026, 5, 1), end_date=dt.date(2026, 4, 30))
    assert "vor dem Beginn" in str(exc.value.message_dict["end_date"])
    assert not Folder.objects.exists()


def test_it_refuses_an_owner_outside_the_organization(org, admin_user, outsider):
    with pytest.raises(ValidationError):
        _create(org, admin_user, owner=outsider)
    assert not Folder.objects.exists()


def test_activating_a_prospects_folder_converts_the_prospect(org, admin_user):
    prospect = ProspectFactory(organization=org)
    folder = _create(org, admin_user, customer=prospect)
    folder = services.folder_activate(folder=folder, user=admin_user)
    prospect.refresh_from_db()
    assert folder.status == FolderStatus.ACTIVE
    assert folder.start_date is not None
    assert prospect.kind == CustomerKind.CUSTOMER
    assert folder.customer_id == prospect.pk  # the same record, no copy
    assert AuditEntry.objects.filter(action="customer.converted", object_id=prospect.pk).exists()


def test_it_moves_through_the_states(org, admin_user):
    folder = services.folder_activate(
        folder=_create(org, admin_user, start_date=dt.date(2026, 1, 1)), user=admin_user
    )
    folder = services.folder_suspend(folder=folder, user=admin_user, reason="Standort geschlossen")
    assert folder.status == FolderStatus.SUSPENDED
    with pytest.raises(ValidationError):
        services.folder_suspend(folder=folder, user=admin_user)
    folder = services.folder_activate(folder=folder, user=admin_user)
    folder = services.folder_terminate(folder=folder, user=admin_user, end_date=dt.date(2026, 6, 30))
    assert folder.status == FolderStatus.TERMINATED
    assert folder.end_date == dt.date(2026, 6, 30)
    with pytest.raises(ValidationError):
        services.folder_activate(folder=folder, user=admin_user)
    actions = list(AuditEntry.objects.filter(object_id=folder.pk).values_list("action", flat=True))
    assert {"folder.activated", "folder.suspended", "folder.terminated"} <= set(actions)


def test_a_cancellation_ends_the_folder_as_the_terms_say(org, admin_user):
    folder = _create(
        org, admin_user, start_date=dt.date(2026, 1, 1), minimum_term_months=24, notice_period_months=3
    )
    folder = services.folder_cancel(folder=folder, user=admin_user, notice_received_on=dt.date(2026, 5, 10))
    assert folder.end_date == dt.date(2027, 12, 31)
    assert folder.contract_end == dt.date(2027, 12, 31)
    folder = services.folder_cancellation_withdraw(folder=folder, user=admin_user)
    assert folder.end_date is None


def test_a_late_cancellation_rolls_into_the_renewal_term(org, admin_user):
    folder = _create(
        org,
        admin_user,
        start_date=dt.date(2026, 1, 1),
        minimum_term_months=12,
        notice_period_months=3,
        auto_renew=True,
    )
    folder = services.folder_cancel(folder=folder, user=admin_user, notice_received_on=dt.date(2026, 10, 15))
    assert folder.end_date == dt.date(2027, 12, 31)


def test_contract_end_rolls_forward_for_renewing_folders(org, admin_user):
    folder = _create(org, admin_user, start_date=dt.date(2024, 1, 1), minimum_term_months=12, auto_renew=True)
    Folder.objects.filter(pk=folder.pk).update(contract_end=dt.date(2024, 12, 31))
    updated = services.folders_refresh_contract_ends(organization=org, today=dt.date(2026, 3, 5))
    folder.refresh_from_db()
    assert updated == 1
    assert folder.contract_end == dt.date(2026, 12, 31)


def test_folder_changes_are_audited_with_old_and_new_values(org, admin_user):
    folder = _create(org, admin_user)
    services.folder_update(
        folder=folder, user=admin_user, data={"name": "Kopierer Empfang", "billing_day": 15}
    )
    entry = AuditEntry.objects.get(action="folder.changed")
    assert entry.data["changes"]["name"] == ["Kopierer Zentrale", "Kopierer Empfang"]
    assert entry.data["changes"]["billing_day"] == [None, 15]
    assert entry.user == admin_user


def test_a_billing_hold_needs_a_reason(org, admin_user):
    folder = _create(org, admin_user)
    with pytest.raises(ValidationError) as exc:
        services.folder_update(
            folder=folder, user=admin_user, data={"billing_hold": True, "billing_hold_reason": " "}
        )
    assert "billing_hold_reason" in exc.value.message_dict
    folder = services.folder_update(
        folder=Folder.objects.get(pk=folder.pk),
        user=admin_user,
        data={
            "billing_hold": True,
            "billing_hold_reason": "Reklamation",
            "billing_hold_until": dt.date(2026, 1, 31),
        },
    )
    assert folder.billing_hold_active(dt.date(2026, 1, 31))
    assert not folder.billing_hold_active(dt.date(2026, 2, 1))


def test_a_stale_instance_does_not_revert_the_status(org, admin_user):
    folder = _create(org, admin_user)
    stale = Folder.objects.get(pk=folder.pk)
    services.folder_activate(folder=folder, user=admin_user)
    services.folder_update(folder=stale, user=admin_user, data={"name": "Neu"})
    assert Folder.objects.get(pk=folder.pk).status == FolderStatus.ACTIVE


# --- one-off lines -------------------------------------------------------------------


def test_it_refuses_a_negative_quantity_or_price(org, admin_user):
    folder = FolderFactory(organization=org)
    with pytest.raises(ValidationError) as exc:
        add_oneoff(folder, user=admin_user, quantity="-1")
    assert "größer als null" in str(exc.value.message_dict["quantity"])
    with pytest.raises(ValidationError) as exc:
        add_oneoff(folder, user=admin_user, unit_price="-0.01")
    assert "negativ" in str(exc.value.message_dict["unit_price"])
    assert not OneOffLine.objects.exists()


def test_it_refuses_a_tax_rate_of_another_organization(org, other_org, admin_user):
    folder = FolderFactory(organization=org)
    with pytest.raises(ValidationError):
        add_oneoff(folder, user=admin_user, tax_rate=standard_rate(other_org))
    assert not OneOffLine.objects.exists()


def test_a_line_nets_quantity_price_and_discount_rounded_half_up(org, admin_user):
    folder = FolderFactory(organization=org)
    line = add_oneoff(
        folder,
        user=admin_user,
        is_equipment=False,
        quantity="3",
        unit_price="33.33",
        discount_percent=Decimal("12.5"),
    )
    assert line.net_amount == Decimal("87.49")  # 99.99 × 0.875 = 87.49125


def test_adding_a_product_can_add_its_service_package(org, admin_user):
    package = ServicePackageFactory(organization=org, name="Wartung Premium", price=Decimal("49.00"))
    EntitlementFactory(package=package)  # per device
    product = ProductFactory(organization=org, service_package=package)
    folder = FolderFactory(organization=org)
    services.oneoff_line_add(
        folder=folder,
        user=admin_user,
        data={
            "product": product,
            "description": product.name,
            "quantity": Decimal("3"),
            "unit": "piece",
            "unit_price": product.unit_price,
            "tax_rate": product.tax_rate,
            "is_equipment": True,
        },
        add_service_package=True,
    )
    recurring = folder.recurring_lines.get()
    assert recurring.service_package == package
    assert recurring.quantity == Decimal("3")
    assert recurring.unit_price == Decimal("49.00")


def test_an_invoiced_line_is_frozen(org, admin_user):
    folder = FolderFactory(organization=org)
    line = add_oneoff(folder, user=admin_user, is_equipment=False)

    class Invoice:
        pk = 99
        number = "RE-2026-000123"
        issue_date = dt.date(2026, 11, 30)

    assert services.oneoff_lines_mark_invoiced(lines=[line], document=Invoice, user=admin_user) == 1
    line.refresh_from_db()
    assert (line.invoice_document_id, line.invoice_number, line.invoiced_on) == (
        99,
        "RE-2026-000123",
        dt.date(2026, 11, 30),
    )
    with pytest.raises(ValidationError):
        services.oneoff_line_update(line=line, user=admin_user, data={"unit_price": Decimal("1.00")})
    with pytest.raises(ValidationError):
        services.oneoff_line_delete(line=line, user=admin_user)
    assert services.oneoff_lines_unmark_invoiced(document_id=99, user=admin_user) == 1
    line.refresh_from_db()
    assert line.invoice_document_id is None


def test_a_line_another_invoice_took_meanwhile_is_not_overwritten(org, admin_user):
    folder = FolderFactory(organization=org)
    first = add_oneoff(folder, user=admin_user, is_equipment=False)
    second = add_oneoff(folder, user=admin_user, is_equipment=False)
    stale = OneOffLine.objects.get(pk=first.pk)  # read before the other invoice took it

    class Taken:
        pk, number, issue_date = 41, "RE-2026-000041", dt.date(2026, 11, 2)

    class Late:
        pk, number, issue_date = 42, "RE-2026-000042", dt.date(2026, 11, 3)

    services.oneoff_lines_mark_invoiced(lines=[first], document=Taken, user=admin_user)
    audits = AuditEntry.objects.filter(action="oneoff_line.invoiced").count()
    with pytest.raises(ValidationError, match="RE-2026-000041"):
        services.oneoff_lines_mark_invoiced(lines=[second, stale], document=Late, user=admin_user)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.invoice_document_id, second.invoice_document_id) == (41, None)
    assert AuditEntry.objects.filter(action="oneoff_line.invoiced").count() == audits == 1
    entry = AuditEntry.objects.get(action="oneoff_line.invoiced")
    assert (entry.object_type, entry.object_id, entry.organization_id) == (
        "folders.folder",
        folder.pk,
        org.pk,
    )


def test_a_delivery_note_marks_the_line_and_dates_its_pieces(org, admin_user):
    folder = FolderFactory(organization=org)
    line = add_oneoff(folder, user=admin_user, quantity="2")

    class Note:
        pk = 7
        number = "LS-2026-0007"
        issue_date = dt.date(2026, 3, 1)

    services.oneoff_lines_mark_delivered(lines=[line], document=Note, user=admin_user)
    line.refresh_from_db()
    assert line.delivery_note_number == "LS-2026-0007"
    assert line.is_delivered
    pieces = list(line.equipment.all())
    assert {p.delivered_on for p in pieces} == {dt.date(2026, 3, 1)}
    assert {p.warranty_end for p in pieces} == {dt.date(2028, 2, 29)}  # 24 months' warranty


def test_line_changes_are_filed_under_the_folder(org, admin_user):
    folder = FolderFactory(organization=org)
    line = add_oneoff(folder, user=admin_user, is_equipment=False, quantity="1")
    services.oneoff_line_update(line=line, user=admin_user, data={"quantity": Decimal("2")})
    services.oneoff_line_delete(line=OneOffLine.objects.get(pk=line.pk), user=admin_user)
    entries = AuditEntry.objects.filter(object_type="folders.folder", object_id=folder.pk)
    actions = set(entries.values_list("action", flat=True))
    assert {"oneoff_line.added", "oneoff_line.changed", "oneoff_line.deleted"} <= actions
    change = entries.get(action="oneoff_line.changed")
    assert change.data["changes"]["quantity"][1] == "2"


def test_lines_of_a_terminated_folder_cannot_change(org, admin_user):
    folder = FolderFactory(organization=org, status=FolderStatus.TERMINATED)
    with pytest.raises(ValidationError):
        add_oneoff(folder, user=admin_user)


def test_the_daily_task_rolls_contract_ends_in_every_organization(org, other_org, admin_user):
    from folders.tasks import refresh_contract_ends

    for organization in (org, other_org):
        folder = _create(
            organization,
            None,
            customer=CustomerFactory(organization=organization),
            start_date=dt.date(2020, 1, 1),
            minimum_term_months=12,
            auto_renew=True,
        )
        Folder.objects.filter(pk=folder.pk).update(contract_end=dt.date(2020, 12, 31))
    assert refresh_contract_ends() == 2
    assert refresh_contract_ends() == 0
    assert not Folder.objects.filter(contract_end__lt=dt.date.today()).exists()


def test_history_names_people_by_their_full_name(org, admin_user, sales_user):
    from folders.selectors import folder_history

    sales_user.first_name, sales_user.last_name = "Sabine", "Vertrieb"
    sales_user.save()
    folder = services.folder_create(
        organization=org,
        customer=CustomerFactory(organization=org),
        user=admin_user,
        data={"name": "Standort Nord", "owner": sales_user},
    )
    [created] = [row for row in folder_history(folder) if row.entry.action == "folder.created"]
    shown = {str(label): new for label, _old, new in created.changes}
    assert "Sabine Vertrieb" in shown.values()
    assert sales_user.username not in shown.values()


def test_it_shows_what_the_system_wrote_into_the_history_in_the_readers_language(org, admin_user):
    from django.utils import translation

    from folders.selectors import folder_history

    prospect = ProspectFactory(organization=org)
    folder = services.folder_activate(folder=_create(org, admin_user, customer=prospect), user=admin_user)
    entry = AuditEntry.objects.get(action="folder.activated", object_id=folder.pk)
    assert entry.data["message"] == {"code": "folders.prospect_converted", "params": {}}
    with translation.override("en"):
        assert "Prospect converted into a customer." in [row.message for row in folder_history(folder)]
    with translation.override("de"):
        assert "Interessent in einen Kunden umgewandelt." in [row.message for row in folder_history(folder)]
