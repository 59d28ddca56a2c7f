"""Folders and lines for the folders/financing tests. Rows that the tests exercise are
created through the services; these factories only set up the surroundings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from folders import services
from folders.models import Equipment, Folder, FolderTemplate, FolderTemplateItem, RecurringLine
from tests.catalog.factories import ProductFactory, standard_rate
from tests.customers.factories import CustomerFactory
from tests.organizations.factories import OrganizationFactory


class FolderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Folder

    organization = factory.SubFactory(OrganizationFactory)
    customer = factory.SubFactory(CustomerFactory, organization=factory.SelfAttribute("..organization"))
    number = factory.Sequence(lambda n: f"T{n + 1:06}")
    name = factory.Sequence(lambda n: f"Standort {n}")
    status = "active"
    start_date = dt.date(2026, 1, 1)
    delivery_street = "Lagerweg 5"
    delivery_postal_code = "20457"
    delivery_city = "Hamburg"


class RecurringLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecurringLine

    folder = factory.SubFactory(FolderFactory)
    organization = factory.LazyAttribute(lambda o: o.folder.organization)
    description = "SIP-Trunk Kanal"
    quantity = Decimal("4")
    unit = "line"
    unit_price = Decimal("9.90")
    cycle = 1
    start_date = dt.date(2026, 1, 1)
    tax_rate = factory.LazyAttribute(lambda o: standard_rate(o.organization))


class FolderTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FolderTemplate

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Standardinstallation {n}")


class FolderTemplateItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FolderTemplateItem

    template = factory.SubFactory(FolderTemplateFactory)
    organization = factory.LazyAttribute(lambda o: o.template.organization)
    product = factory.SubFactory(ProductFactory, organization=factory.SelfAttribute("..organization"))
    quantity = Decimal("1")


def add_pieces(line, serials=(), **fields) -> None:
    """One equipment row per unit of a one-off line, as rows (not through the service);
    `serials` go to the first pieces in order, the rest have none yet."""
    for piece in range(1, int(line.quantity) + 1):
        Equipment.objects.create(
            organization=line.organization,
            line=line,
            piece=piece,
            serial_number=serials[piece - 1] if piece <= len(serials) else "",
            **fields,
        )


def add_oneoff(folder, *, user=None, product=None, quantity="1", unit_price=None, is_equipment=None, **extra):
    """A one-off line added through the service (equipment rows included)."""
    product = product if product is not None else ProductFactory(organization=folder.organization)
    data = {
        "product": product,
        "description": product.name,
        "quantity": Decimal(quantity),
        "unit": product.unit,
        "unit_price": Decimal(unit_price) if unit_price is not None else product.unit_price,
        "tax_rate": product.tax_rate,
        "is_equipment": product.is_equipment if is_equipment is None else is_equipment,
    }
    data.update(extra)
    return services.oneoff_line_add(folder=folder, user=user, data=data)


def add_recurring(folder, *, user=None, product=None, quantity="1", unit_price="9.90", **extra):
    data = {
        "product": product,
        "description": product.name if product else "Managed Service",
        "quantity": Decimal(quantity),
        "unit": "piece",
        "unit_price": Decimal(unit_price),
        "cycle": 1,
        "timing": "advance",
        "tax_rate": product.tax_rate if product else standard_rate(folder.organization),
        "start_date": folder.start_date or dt.date(2026, 1, 1),
    }
    data.update(extra)
    return services.recurring_line_add(folder=folder, user=user, data=data)
