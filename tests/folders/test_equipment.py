from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from folders import services
from folders.models import Equipment, OneOffLine, WarrantyStatus
from folders.selectors import equipment_search
from tests.catalog.factories import ProductFactory
from tests.folders.factories import FolderFactory, add_oneoff

pytestmark = pytest.mark.django_db


def _serials(line, user, serials, **kwargs):
    pieces = list(line.equipment.order_by("piece"))
    rows = [{"id": p.pk, "serial_number": s} for p, s in zip(pieces, serials, strict=False)]
    return services.equipment_update(line=line, user=user, rows=rows, **kwargs)


def test_quantity_three_means_three_pieces(org, admin_user):
    line = add_oneoff(FolderFactory(organization=org), user=admin_user, quantity="3")
    assert list(line.equipment.values_list("piece", "model_number")) == [
        (1, "TASKalfa 3554ci"),
        (2, "TASKalfa 3554ci"),
        (3, "TASKalfa 3554ci"),
    ]


def test_pieces_follow_the_quantity_and_keep_serial_numbers(org, admin_user):
    line = add_oneoff(FolderFactory(organization=org), user=admin_user, quantity="3")
    _serials(line, admin_user, ["", "", "SN-3"])
    services.oneoff_line_update(
        line=OneOffLine.objects.get(pk=line.pk), user=admin_user, data={"quantity": Decimal("1")}
    )
    assert list(line.equipment.values_list("piece", "serial_number")) == [(1, "SN-3")]
    services.oneoff_line_update(
        line=OneOffLine.objects.get(pk=line.pk), user=admin_user, data={"quantity": Decimal("4")}
    )
    assert line.equipment.count() == 4


def test_it_refuses_fewer_pieces_than_recorded_serial_numbers(org, admin_user):
    line = add_oneoff(FolderFactory(organization=org), user=admin_user, quantity="2")
    _serials(line, admin_user, ["SN-1", "SN-2"])
    with pytest.raises(ValidationError) as exc:
        services.oneoff_line_update(
            line=OneOffLine.objects.get(pk=line.pk), user=admin_user, data={"quantity": Decimal("1")}
        )
    assert "Seriennummern" in str(exc.value.message_dict["quantity"])
    line.refresh_from_db()
    assert line.quantity == Decimal("2")
    assert line.equipment.count() == 2


def test_it_refuses_more_serial_numbers_than_pieces(org, admin_user):
    line = add_oneoff(FolderFactory(organization=org), user=admin_user, quantity="2")
    with pytest.raises(ValidationError) as exc:
        services.equipment_assign_serials(line=line, user=admin_user, serials=["A", "B", "C"])
    assert "3 Seriennummern" in str(exc.value.message_dict["serials"])
    assert not Equipment.objects.exclude(serial_number="").exists()


def test_equipment_is_counted_in_whole_pieces(org, admin_user):
    with pytest.raises(ValidationError) as exc:
        add_oneoff(FolderFactory(organization=org), user=admin_user, quantity="2.5")
    assert "ganzen" in str(exc.value.message_dict["quantity"])


def test_a_duplicate_serial_for_the_same_product_needs_confirmation(org, admin_user):
    product = ProductFactory(organization=org)
    first = add_oneoff(FolderFactory(organization=org), user=admin_user, product=product)
    second = add_oneoff(FolderFactory(organization=org), user=admin_user, product=product)
    _serials(first, admin_user, ["W8K0001"])
    with pytest.raises(services.DuplicateSerialWarning) as exc:
        _serials(second, admin_user, ["w8k0001"])
    assert exc.value.conflicts[0]["folder"] == first.folder.number
    assert not second.equipment.exclude(serial_number="").exists()
    _serials(second, admin_user, ["w8k0001"], confirm_duplicates=True)
    assert second.equipment.get().serial_number == "w8k0001"


def test_the_same_serial_for_another_product_is_fine(org, admin_user):
    first = add_oneoff(FolderFactory(organization=org), user=admin_user)
    second = add_oneoff(FolderFactory(organization=org), user=admin_user)
    _serials(first, admin_user, ["SN-1"])
    _serials(second, admin_user, ["SN-1"])
    assert Equipment.objects.filter(serial_number="SN-1").count() == 2


def test_another_organizations_serial_is_no_duplicate(org, other_org, admin_user):
    product = ProductFactory(organization=org)
    other = add_oneoff(
        FolderFactory(organization=other_org), product=ProductFactory(organization=other_org, sku=product.sku)
    )
    _serials(other, None, ["SN-1"])
    _serials(
        add_oneoff(FolderFactory(organization=org), user=admin_user, product=product), admin_user, ["SN-1"]
    )


def test_a_serial_typed_twice_in_one_line_is_a_duplicate(org, admin_user):
    line = add_oneoff(FolderFactory(organization=org), user=admin_user, quantity="2")
    with pytest.raises(services.DuplicateSerialWarning):
        _serials(line, admin_user, ["SN-1", "SN-1"])


def test_warranty_defaults_from_delivery_and_the_products_warranty(org, admin_user):
    line = add_oneoff(FolderFactory(organization=org), user=admin_user)
    piece = line.equipment.get()
    services.equipment_update(
        line=line, user=admin_user, rows=[{"id": piece.pk, "delivered_on": dt.date(2026, 1, 31)}]
    )
    piece.refresh_from_db()
    assert piece.warranty_end == dt.date(2028, 1, 30)
    assert piece.warranty_status(dt.date(2028, 1, 30)) == WarrantyStatus.VALID
    assert piece.warranty_status(dt.date(2028, 1, 31)) == WarrantyStatus.EXPIRED


def test_a_warranty_cannot_end_before_delivery(org, admin_user):
    line = add_oneoff(FolderFactory(organization=org), user=admin_user)
    piece = line.equipment.get()
    with pytest.raises(ValidationError):
        services.equipment_update(
            line=line,
            user=admin_user,
            rows=[{"id": piece.pk, "delivered_on": dt.date(2026, 5, 1), "warranty_end": dt.date(2026, 4, 1)}],
        )


def test_it_refuses_pieces_of_another_line(org, admin_user):
    line = add_oneoff(FolderFactory(organization=org), user=admin_user)
    other = add_oneoff(FolderFactory(organization=org), user=admin_user)
    with pytest.raises(ValidationError):
        services.equipment_update(
            line=line, user=admin_user, rows=[{"id": other.equipment.get().pk, "serial_number": "X"}]
        )


def test_equipment_changes_are_filed_under_the_folder(org, admin_user):
    line = add_oneoff(FolderFactory(organization=org), user=admin_user, quantity="2")
    _serials(line, admin_user, ["SN-1", "SN-2"])
    from organizations.models import AuditEntry

    entry = AuditEntry.objects.get(action="equipment.changed")
    assert entry.object_id == line.folder_id
    assert entry.data["changes"]["serial_number#2"] == ["", "SN-2"]


def test_serial_search_finds_partial_serials_with_customer_and_folder(org, other_org, admin_user):
    line = add_oneoff(FolderFactory(organization=org), user=admin_user)
    _serials(line, admin_user, ["W8K3-4711-X"])
    foreign = add_oneoff(FolderFactory(organization=other_org))
    _serials(foreign, None, ["W8K3-9999"])
    from django_scopes import scope

    with scope(organization=org):
        results = list(equipment_search("4711"))
        assert [r.serial_number for r in results] == ["W8K3-4711-X"]
        assert results[0].line.folder.customer == line.folder.customer
        assert [r.serial_number for r in equipment_search("w8k3")] == ["W8K3-4711-X"]
    assert list(equipment_search("  ")) == []


def test_a_role_without_the_right_cannot_record_a_delivery_date(org, admin_user):
    folder = FolderFactory(organization=org)
    line = add_oneoff(folder, user=admin_user)
    piece = line.equipment.get()
    with pytest.raises(ValidationError) as exc:
        services.equipment_update(
            line=line,
            user=admin_user,
            rows=[{"id": piece.pk, "serial_number": "X1", "delivered_on": dt.date(2026, 11, 20)}],
            may_record_delivery=False,
        )
    assert "Lieferschein" in exc.value.messages[0]
    assert Equipment.objects.get(pk=piece.pk).serial_number == ""


def test_the_delivery_date_on_an_invoice_stays_as_invoiced(org, admin_user):
    folder = FolderFactory(organization=org)
    line = add_oneoff(folder, user=admin_user, quantity="2")
    first, second = line.equipment.order_by("piece")
    services.equipment_update(
        line=line, user=admin_user, rows=[{"id": first.pk, "delivered_on": dt.date(2026, 11, 20)}]
    )

    class Invoice:
        pk, number, issue_date = 5, "RE-2026-000005", None

    services.oneoff_lines_mark_invoiced(lines=[line], document=Invoice)
    line.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        services.equipment_update(
            line=line, user=admin_user, rows=[{"id": first.pk, "delivered_on": dt.date(2026, 11, 21)}]
        )
    assert "RE-2026-000005" in exc.value.messages[0]
    # A first date (after an advance invoice) is the delivery it announced.
    services.equipment_update(
        line=line, user=admin_user, rows=[{"id": second.pk, "delivered_on": dt.date(2026, 11, 22)}]
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.delivered_on, second.delivered_on) == (dt.date(2026, 11, 20), dt.date(2026, 11, 22))
