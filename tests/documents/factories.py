"""Folders with lines, equipment and financing, as the documents tests need them.

Rows are created directly (not through the folders services) so these tests do not
depend on how folders are edited; only what documents read must be realistic.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from customers.models import Contact, Customer, CustomerKind
from financing.models import Financing
from folders.models import Equipment, OneOffLine, RecurringLine
from tests.catalog.factories import tax_rate
from tests.customers import factories as customers_factories
from tests.customers.factories import CustomerFactory
from tests.financing import factories as financing_factories
from tests.folders import factories as folders_factories


class FolderFactory(folders_factories.FolderFactory):
    number = factory.Sequence(lambda n: f"O{n + 1:06}")
    name = factory.Sequence(lambda n: f"Standort Nord {n}")
    start_date = None


def financier(org, **kwargs) -> Customer:
    """The leasing company, ready to receive its invoices by e-mail."""
    defaults = {"invoice_email": "rechnungen@grenke.example", "payment_terms_days": 30}
    return customers_factories.financier(org, **{**defaults, **kwargs})


def oneoff(
    folder,
    *,
    description="Konica Minolta bizhub C300i\nMultifunktionssystem A3 Farbe",
    quantity="1",
    unit_price="4290.00",
    rate="19.00",
    discount="0",
    equipment=True,
    serials=(),
    product=None,
    position=None,
) -> OneOffLine:
    line = OneOffLine.objects.create(
        organization=folder.organization,
        folder=folder,
        position=position if position is not None else folder.oneoff_lines.count() + 1,
        product=product,
        description=description,
        quantity=Decimal(quantity),
        unit="piece",
        unit_price=Decimal(unit_price),
        discount_percent=Decimal(discount),
        tax_rate=tax_rate(folder.organization, rate),
        is_equipment=equipment,
    )
    if equipment:
        folders_factories.add_pieces(line, serials, model_number=f"MODEL-{line.pk}")
        line.equipment.filter(piece=1).update(warranty_end=dt.date(2028, 12, 31))  # the first one only
    return line


def recurring(
    folder,
    *,
    description="Managed Print Service\nWartung und Verbrauchsmaterial",
    quantity="1",
    unit_price="89.00",
    cycle=1,
    rate="19.00",
    start=dt.date(2026, 12, 1),
) -> RecurringLine:
    return RecurringLine.objects.create(
        organization=folder.organization,
        folder=folder,
        position=folder.recurring_lines.count() + 1,
        description=description,
        quantity=Decimal(quantity),
        unit="month",
        unit_price=Decimal(unit_price),
        cycle=cycle,
        start_date=start,
        tax_rate=tax_rate(folder.organization, rate),
    )


def finance(folder, financier_customer=None, *, reference="GR-2026-4711", status="approved") -> Financing:
    by = financier_customer or financier(folder.organization)
    return financing_factories.finance(folder, by, reference=reference, status=status)


def contact(customer, **kwargs) -> Contact:
    return customers_factories.contact(customer, **{"salutation": "ms", **kwargs})


def direct_debit(customer, *, mandate_reference: str, signed_on: dt.date) -> Customer:
    """The customer pays by SEPA direct debit under a signed mandate."""
    customer.payment_method = "direct_debit"
    customer.iban = "DE89370400440532013000"
    customer.mandate_reference = mandate_reference
    customer.mandate_signed_on = signed_on
    customer.save()
    return customer


def prospect(org, **kwargs) -> Customer:
    return CustomerFactory(organization=org, kind=CustomerKind.PROSPECT, **kwargs)


DELIVERED_ON = dt.date(2026, 11, 20)


def deliver(folder, day: dt.date = DELIVERED_ON) -> None:
    """Record the delivery of every piece of the folder that has no delivery date yet (one-off
    lines are invoiced only once delivered)."""
    Equipment.objects.filter(line__folder=folder, delivered_on__isnull=True).update(delivered_on=day)


CHORUS_SIRET = "21440109300015"
CHORUS_SERVICE_CODE = "SERVICE-FINANCES"
CHORUS_ENGAGEMENT = "EJ-2026-004711"


def chorus_payer(customer, **fields) -> Customer:
    """A French public buyer that receives its invoices through Chorus Pro."""
    values = {
        "delivery_method": "chorus_pro",
        "siret": CHORUS_SIRET,
        "service_code": CHORUS_SERVICE_CODE,
        "engagement_number": CHORUS_ENGAGEMENT,
        **fields,
    }
    for name, value in values.items():
        setattr(customer, name, value)
    customer.full_clean()
    customer.save()
    return customer


def chorus_invoice(org, user, *, name="Mairie de Nantes", **payer_fields):
    """An issued one-off invoice (two lines, 19 % and 7 %) to a Chorus Pro payer."""
    from documents import services

    folder = FolderFactory(organization=org, customer__name=name)
    chorus_payer(folder.customer, **payer_fields)
    oneoff(
        folder, description="Copieur\nMultifonction", quantity="2", unit_price="1290.00", serials=("C1", "C2")
    )
    oneoff(folder, description="Manuel", quantity="1", unit_price="24.80", rate="7.00", equipment=False)
    deliver(folder)
    return services.invoice_oneoff_now(folder=folder, user=user)
