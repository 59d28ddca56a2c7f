"""Pre-filling a folder line from a catalog product (pure: no database access).

The line keeps its own copy of text and price afterwards, so later catalog changes never
rewrite what was sold. Works on anything with the product's attributes (a Product, or a
SimpleNamespace in tests); the tax rate and service package are passed as ids.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

ONE_OFF = "one_off"
RECURRING = "recurring"
MONTHLY = 1


def product_text(product: Any) -> str:
    """Name, then the description on the following lines (what the document prints)."""
    name = (getattr(product, "name", "") or "").strip()
    description = (getattr(product, "description", "") or "").strip()
    return f"{name}\n{description}" if description else name


def oneoff_line_prefill(product: Any) -> dict[str, Any]:
    """Initial values of a one-off line for `product`."""
    return {
        "product": product.pk,
        "description": product_text(product),
        "unit": product.unit,
        "unit_price": Decimal(product.unit_price),
        "tax_rate": product.tax_rate_id,
        "is_equipment": bool(product.is_equipment),
        "discount_percent": Decimal("0"),
    }


def recurring_line_prefill(product: Any) -> dict[str, Any]:
    """Initial values of a recurring line for `product`; a one-off product (rarely sold
    as a subscription) starts as monthly at its unit price."""
    return {
        "product": product.pk,
        "service_package": None,
        "description": product_text(product),
        "unit": product.unit,
        "unit_price": Decimal(product.unit_price),
        "cycle": product.cycle or MONTHLY,
        "setup_fee": Decimal(product.setup_fee or 0),
        "tax_rate": product.tax_rate_id,
    }


def package_line_prefill(package: Any, *, pieces: int = 1, per_device: bool = False) -> dict[str, Any]:
    """Initial values of a recurring line selling a service package.

    The package price is per unit; when one of its entitlements applies per device
    (`per_device`) the quantity is the number of devices it covers (`pieces`), otherwise
    one flat unit for the customer.
    """
    description = package.name if not package.description else f"{package.name}\n{package.description}"
    return {
        "product": None,
        "service_package": package.pk,
        "description": description,
        "unit": "piece" if per_device else "flat",
        "quantity": Decimal(max(pieces, 1)) if per_device else Decimal("1"),
        "unit_price": Decimal(package.price),
        "cycle": package.cycle,
        "setup_fee": Decimal("0"),
        "tax_rate": package.tax_rate_id,
    }


def merge_prefill(
    current: dict[str, Any], prefill: dict[str, Any], *, keep: tuple[str, ...] = ("quantity",)
) -> dict[str, Any]:
    """The form's values after choosing a product: the product's values win, except the
    fields in `keep` that the user already filled in."""
    merged = dict(current)
    for key, value in prefill.items():
        if key in keep and current.get(key) not in (None, ""):
            continue
        merged[key] = value
    return merged
