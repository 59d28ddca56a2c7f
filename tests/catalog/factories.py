from __future__ import annotations

from decimal import Decimal

import factory

from catalog.models import (
    Coverage,
    Cycle,
    Entitlement,
    EntitlementKind,
    Product,
    ProductKind,
    Scope,
    ServicePackage,
    TaxRate,
)
from tests.organizations.factories import OrganizationFactory


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate
        django_get_or_create = ("organization", "name")

    organization = factory.SubFactory(OrganizationFactory)
    name = "19 % USt"
    rate = Decimal("19.00")
    is_default = False


def standard_rate(org) -> TaxRate:
    return TaxRateFactory(organization=org, name="19 % USt", rate=Decimal("19.00"))


def tax_rate(org, rate: str = "19.00") -> TaxRate:
    """The organization's rate named "USt <rate> %"; 19 % is its default rate."""
    obj, _ = TaxRate.objects.get_or_create(
        organization=org,
        name=f"USt {Decimal(rate).normalize():f} %",
        defaults={"rate": Decimal(rate), "is_default": rate == "19.00"},
    )
    return obj


class ServicePackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServicePackage

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Wartungsvertrag {n}")
    code = factory.Sequence(lambda n: f"WART-{n:03}")
    price = Decimal("49.00")
    cycle = Cycle.MONTHLY
    tax_rate = factory.LazyAttribute(lambda o: standard_rate(o.organization))


class EntitlementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Entitlement

    package = factory.SubFactory(ServicePackageFactory)
    organization = factory.LazyAttribute(lambda o: o.package.organization)
    kind = EntitlementKind.LABOUR
    coverage = Coverage.INCLUDED
    response_hours = 8
    scope = Scope.PER_DEVICE


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    organization = factory.SubFactory(OrganizationFactory)
    sku = factory.Sequence(lambda n: f"P-{n:04}")
    name = factory.Sequence(lambda n: f"Kyocera TASKalfa {3500 + n}ci")
    description = "A3-Farbmultifunktionssystem"
    kind = ProductKind.ONE_OFF
    unit = "piece"
    unit_price = Decimal("6490.00")
    tax_rate = factory.LazyAttribute(lambda o: standard_rate(o.organization))
    is_equipment = True
    model_number = "TASKalfa 3554ci"
    warranty_months = 24


class RecurringProductFactory(ProductFactory):
    sku = factory.Sequence(lambda n: f"R-{n:04}")
    name = factory.Sequence(lambda n: f"SIP-Trunk Kanal {n}")
    description = ""
    kind = ProductKind.RECURRING
    unit = "line"
    unit_price = Decimal("9.90")
    cycle = Cycle.MONTHLY
    setup_fee = Decimal("49.00")
    is_equipment = False
    model_number = ""
    warranty_months = None
