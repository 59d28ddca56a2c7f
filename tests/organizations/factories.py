from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from organizations.models import Membership, Organization


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Bürotechnik {n} GmbH")
    legal_name = factory.LazyAttribute(lambda o: o.name)
    street = "Hauptstraße 1"
    postal_code = "10115"
    city = "Berlin"
    vat_id = "DE136695976"
    tax_number = "27/123/45678"
    register_court = "Amtsgericht Berlin-Charlottenburg"
    register_number = "HRB 123456"
    managing_directors = "Erika Mustermann"
    iban = "DE89370400440532013000"
    bic = "COBADEFFXXX"
    creditor_id = "DE98ZZZ09999999999"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Max"
    last_name = factory.Sequence(lambda n: f"Muster{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or "secret-pass-123")
        if create:
            obj.save(update_fields=["password"])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = "admin"
