"""Customers, folders and lines for billing tests.

Rows are created directly (not through the folders services), so a test states exactly
the contract it bills: start, cycle, timing, trial, setup fee, changes, holds.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from customers.models import Customer
from financing.models import Financing
from folders.models import Folder, OneOffLine, RecurringLine, RecurringLineChange
from tests.catalog.factories import tax_rate
from tests.customers.factories import CustomerFactory, financier
from tests.customers.factories import contact as contact  # the billing tests call f.contact
from tests.financing import factories as financing_factories
from tests.folders.factories import add_pieces

D = Decimal


def customer(org, **kwargs) -> Customer:
    return CustomerFactory(organization=org, **kwargs)


_numbers = iter(range(1, 10**6))


def folder(org, cust: Customer | None = None, **kwargs) -> Folder:
    defaults = {
        "organization": org,
        "customer": cust or customer(org),
        "number": f"O{next(_numbers):06}",
        "name": "Standort Hamburg",
        "status": "active",
        "start_date": dt.date(2026, 1, 1),
    }
    defaults.update(kwargs)
    return Folder.objects.create(**defaults)


def recurring(
    f: Folder,
    *,
    price: str = "100.00",
    quantity: str = "1",
    cycle: int = 1,
    timing: str = "advance",
    start: dt.date = dt.date(2026, 1, 1),
    end: dt.date | None = None,
    trial_end: dt.date | None = None,
    setup_fee: str = "0",
    description: str = "SIP-Trunk Business\n10 Sprachkanäle",
    rate: str = "19.00",
    unit: str = "month",
) -> RecurringLine:
    return RecurringLine.objects.create(
        organization=f.organization,
        folder=f,
        position=f.recurring_lines.count() + 1,
        description=description,
        quantity=D(quantity),
        unit=unit,
        unit_price=D(price),
        cycle=cycle,
        timing=timing,
        start_date=start,
        end_date=end,
        trial_end=trial_end,
        setup_fee=D(setup_fee),
        tax_rate=tax_rate(f.organization, rate),
    )


def change(
    line: RecurringLine, *, effective_from: dt.date, quantity: str | None = None, price: str | None = None
):
    """A new version, as folders.services.recurring_line_change records it."""
    new_quantity = D(quantity) if quantity is not None else line.quantity
    new_price = D(price) if price is not None else line.unit_price
    obj = RecurringLineChange.objects.create(
        organization=line.organization,
        line=line,
        effective_from=effective_from,
        quantity=new_quantity,
        unit_price=new_price,
        previous_quantity=line.quantity,
        previous_unit_price=line.unit_price,
    )
    line.quantity, line.unit_price = new_quantity, new_price
    line.save(update_fields=["quantity", "unit_price"])
    return obj


def oneoff(
    f: Folder,
    *,
    price: str = "4290.00",
    quantity: str = "1",
    description: str = "Konica Minolta bizhub C300i",
    serials: tuple[str, ...] = (),
    equipment: bool = True,
    delivered_on: dt.date | None = None,
) -> OneOffLine:
    line = OneOffLine.objects.create(
        organization=f.organization,
        folder=f,
        position=f.oneoff_lines.count() + 1,
        description=description,
        quantity=D(quantity),
        unit="piece",
        unit_price=D(price),
        tax_rate=tax_rate(f.organization),
        is_equipment=equipment,
    )
    if equipment:
        add_pieces(line, serials, delivered_on=delivered_on)
    return line


def finance(f: Folder, by: Customer | None = None, *, status: str = "approved") -> Financing:
    return financing_factories.finance(f, by or financier(f.organization), status=status)
