from __future__ import annotations

import factory

from customers.models import Customer
from financing.models import Financing
from tests.customers.factories import CustomerFactory
from tests.folders.factories import FolderFactory


class FinancierFactory(CustomerFactory):
    name = factory.Sequence(lambda n: f"Leasing {n} AG")
    is_financier = True


class FinancingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Financing

    folder = factory.SubFactory(FolderFactory)
    organization = factory.LazyAttribute(lambda o: o.folder.organization)
    financier = factory.SubFactory(FinancierFactory, organization=factory.SelfAttribute("..organization"))
    lease_term_months = 60
    contract_reference = factory.Sequence(lambda n: f"LV-{n:05}")
    approval_status = "approved"


def finance(folder, by: Customer, *, reference: str = "GR-2026-4711", status: str = "approved") -> Financing:
    """A 60-month lease of the folder's hardware by the financier `by`."""
    return Financing.objects.create(
        organization=folder.organization,
        folder=folder,
        financier=by,
        lease_term_months=60,
        contract_reference=reference,
        approval_status=status,
    )
