from __future__ import annotations

import datetime as dt

import factory

from customers.models import Action, Contact, ContactFunction, Customer, CustomerKind, Note
from tests.organizations.factories import OrganizationFactory


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    organization = factory.SubFactory(OrganizationFactory)
    number = factory.Sequence(lambda n: f"K{n + 10000:05}")
    kind = CustomerKind.CUSTOMER
    name = factory.Sequence(lambda n: f"Musterfirma {n} GmbH")
    street = "Königsallee 12"
    postal_code = "40212"
    city = "Düsseldorf"
    email = factory.Sequence(lambda n: f"info{n}@musterfirma.de")


class ProspectFactory(CustomerFactory):
    kind = CustomerKind.PROSPECT
    number = ""  # given on conversion


class ContactFunctionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactFunction
        django_get_or_create = ("organization", "name")

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Funktion {n}")


class CustomerRowFactory(factory.django.DjangoModelFactory):
    """A row that belongs to a customer, in the customer's organization."""

    class Meta:
        abstract = True

    customer = factory.SubFactory(CustomerFactory)
    organization = factory.LazyAttribute(lambda o: o.customer.organization)


class ContactFactory(CustomerRowFactory):
    class Meta:
        model = Contact

    first_name = "Erika"
    last_name = factory.Sequence(lambda n: f"Kontakt{n}")
    email = factory.LazyAttribute(lambda o: f"{o.last_name.lower()}@example.de")


class NoteFactory(CustomerRowFactory):
    class Meta:
        model = Note

    text = "CFO immer bei Rechnungen in Kopie setzen."


class ActionFactory(CustomerRowFactory):
    class Meta:
        model = Action

    due_on = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=3))
    description = "Nachfassen wegen Angebot"


def financier(org, **kwargs) -> Customer:
    """A leasing company with a full address, as financed folders name it."""
    defaults = {
        "name": "GRENKE Leasing AG",
        "is_financier": True,
        "street": "Neuer Markt 2",
        "postal_code": "76532",
        "city": "Baden-Baden",
        "vat_id": "DE143582014",
    }
    return CustomerFactory(organization=org, **{**defaults, **kwargs})


def contact(customer: Customer, **kwargs) -> Contact:
    """The customer's invoice recipient."""
    defaults = {
        "first_name": "Anna",
        "last_name": "Weber",
        "email": "anna.weber@example.de",
        "is_invoice_recipient": True,
    }
    return Contact.objects.create(
        organization=customer.organization, customer=customer, **{**defaults, **kwargs}
    )
