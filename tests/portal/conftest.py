"""Portal fixtures: a contact with a portal account, and a client logged in to the portal."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from portal.models import PortalAccount
from tests.customers.factories import ContactFactory, CustomerFactory
from tests.organizations.factories import UserFactory

PORTAL_PASSWORD = "Portal-Pass-2026!"


def portal_account(contact) -> PortalAccount:
    user = UserFactory(username=f"portal-{contact.pk}", email=contact.email)
    user.set_password(PORTAL_PASSWORD)
    user.save()
    return PortalAccount.objects.create(organization=contact.organization, contact=contact, user=user)


def portal_client(user) -> Client:
    """A test client holding a portal session (the portal's own cookie) for `user`."""
    client = Client()
    client.force_login(user)
    key = client.cookies.pop(settings.SESSION_COOKIE_NAME).value
    client.cookies[settings.PORTAL_SESSION_COOKIE_NAME] = key
    return client


@pytest.fixture
def portal_contact(org):
    customer = CustomerFactory(organization=org, name="Kanzlei Weber & Partner")
    return ContactFactory(customer=customer, has_portal_access=True, email="weber@kanzlei-weber.de")


@pytest.fixture
def portal_user(portal_contact):
    return portal_account(portal_contact).user


@pytest.fixture
def portal(portal_user):
    """A client logged in to the portal as `portal_contact`."""
    return portal_client(portal_user)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """run_on_commit(fn, ...) calls a service and runs its on-commit callbacks (mails, PDFs)."""

    def call(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            result = fn(*args, **kwargs)
        if hasattr(result, "refresh_from_db"):
            result.refresh_from_db()
        return result

    return call


@pytest.fixture
def issued_invoice_with_pdf(portal_contact, admin_user, run_on_commit):
    """A real invoice to the portal contact's company, issued by the documents service:
    numbered, frozen, its PDF rendered and stored."""
    from documents import services
    from tests.documents.factories import FolderFactory, deliver, oneoff

    folder = FolderFactory(organization=portal_contact.organization, customer=portal_contact.customer)
    oneoff(
        folder,
        description="Yealink T54W\nIP-Telefon",
        quantity="2",
        unit_price="189.90",
        serials=("Y1", "Y2"),
    )
    deliver(folder)
    return run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
