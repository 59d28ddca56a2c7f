"""Pre-filling a line from a catalog product: pure functions, no database."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from folders.prefill import (
    merge_prefill,
    oneoff_line_prefill,
    package_line_prefill,
    product_text,
    recurring_line_prefill,
)


def _product(**kwargs):
    values = {
        "pk": 7,
        "name": "Kyocera TASKalfa 3554ci",
        "description": "A3-Farbmultifunktionssystem",
        "unit": "piece",
        "unit_price": Decimal("6490.00"),
        "tax_rate_id": 3,
        "is_equipment": True,
        "cycle": None,
        "setup_fee": Decimal("0"),
    }
    values.update(kwargs)
    return SimpleNamespace(**values)


def test_it_puts_the_name_first_and_the_description_below():
    assert product_text(_product()) == "Kyocera TASKalfa 3554ci\nA3-Farbmultifunktionssystem"
    assert product_text(_product(description="  ")) == "Kyocera TASKalfa 3554ci"


def test_it_prefills_a_one_off_line_from_the_product():
    data = oneoff_line_prefill(_product())
    assert data == {
        "product": 7,
        "description": "Kyocera TASKalfa 3554ci\nA3-Farbmultifunktionssystem",
        "unit": "piece",
        "unit_price": Decimal("6490.00"),
        "tax_rate": 3,
        "is_equipment": True,
        "discount_percent": Decimal("0"),
    }


def test_it_prefills_a_recurring_line_with_cycle_and_setup_fee():
    product = _product(
        name="SIP-Trunk",
        description="",
        unit="line",
        unit_price=Decimal("9.90"),
        cycle=3,
        setup_fee=Decimal("49.00"),
        is_equipment=False,
    )
    data = recurring_line_prefill(product)
    assert data["cycle"] == 3
    assert data["setup_fee"] == Decimal("49.00")
    assert data["unit_price"] == Decimal("9.90")
    assert data["description"] == "SIP-Trunk"
    assert data["service_package"] is None


def test_a_one_off_product_sold_as_subscription_starts_monthly():
    assert recurring_line_prefill(_product(cycle=None))["cycle"] == 1


def test_a_package_covers_each_device_when_an_entitlement_is_per_device():
    package = SimpleNamespace(
        pk=2, name="Wartung Premium", description="", price=Decimal("49.00"), cycle=1, tax_rate_id=3
    )
    per_device = package_line_prefill(package, pieces=3, per_device=True)
    assert per_device["quantity"] == Decimal("3")
    assert per_device["service_package"] == 2
    assert per_device["product"] is None
    flat = package_line_prefill(package, pieces=3, per_device=False)
    assert flat["quantity"] == Decimal("1")
    assert flat["unit"] == "flat"


def test_it_keeps_a_typed_quantity_but_takes_the_products_price():
    merged = merge_prefill({"quantity": "3", "unit_price": "1,00"}, oneoff_line_prefill(_product()))
    assert merged["quantity"] == "3"
    assert merged["unit_price"] == Decimal("6490.00")
    merged = merge_prefill({"quantity": ""}, {"quantity": Decimal("1")})
    assert merged["quantity"] == Decimal("1")


def test_the_line_keeps_its_own_copy():
    product = _product()
    data = oneoff_line_prefill(product)
    product.unit_price = Decimal("9999.00")
    product.name = "Renamed"
    assert data["unit_price"] == Decimal("6490.00")
    assert data["description"].startswith("Kyocera")
