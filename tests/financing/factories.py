from __future__ import annotations

import factory

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
