"""The demo's portal logins: a customer's and a financier's contact with a known password,
made once."""

from __future__ import annotations

import random

from django.test import Client
from django.urls import reverse

from demo import portal as demo_portal
from portal.models import PortalAccount
from tests.customers.factories import CustomerFactory
from tests.documents.factories import financier
from tests.payments.factories import issued_invoice


def test_the_demo_makes_known_portal_logins_once(org, admin_user):
    customer = CustomerFactory(organization=org, name="Demo Kunde GmbH")
    leasing = financier(org, name="Demo Leasing AG")
    issued_invoice(org, customer, "119.00")
    issued_invoice(org, leasing, "4290.00")
    demo_portal.seed(org, rng=random.Random(1), users={"admin": admin_user})
    demo_portal.seed(org, rng=random.Random(1), users={"admin": admin_user})
    assert PortalAccount.objects.filter(contact__customer__in=[customer, leasing]).count() == 2
    for email, name in (
        (f"portal@{org.slug}-kunde.example", "Demo Kunde"),
        (f"portal@{org.slug}-leasing.example", "Demo Leasing"),
    ):
        client = Client()
        response = client.post(reverse("portal:login"), {"username": email, "password": demo_portal.PASSWORD})
        assert response.status_code == 302, email
        assert name in client.get(reverse("portal:home")).content.decode()
