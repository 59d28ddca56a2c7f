"""Staff open the portal for a contact: the invitation, its single-use link that expires,
taking access away, the status on the customer page and the staff login's refusal."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers import services as customer_services
from portal.models import PortalAccount
from portal.tokens import invitation_token
from tests.customers.factories import ContactFactory, CustomerFactory
from tests.portal.conftest import PORTAL_PASSWORD, portal_client

NEW_PASSWORD = "Kaffeemaschine-Blau-42"


@pytest.fixture
def contact(org):
    customer = CustomerFactory(organization=org, name="Bäckerei Schulz KG")
    return ContactFactory(
        customer=customer, first_name="Petra", last_name="Schulz", email="petra@schulz.example"
    )


def open_access(contact, user, run_on_commit):
    return run_on_commit(
        customer_services.contact_update, contact=contact, user=user, data={"has_portal_access": True}
    )


def invitation_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/portal/invitation/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_ticking_portal_access_sends_the_invitation_after_commit(
    contact, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        customer_services.contact_update(contact=contact, user=admin_user, data={"has_portal_access": True})
    # Nothing is sent inside the transaction: the mail waits for the commit.
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["petra@schulz.example"]
    assert contact.organization.name in message.from_email
    assert "Kundenportal" in message.subject  # the customer's document language is German
    account = PortalAccount.objects.get(contact=contact)
    assert account.invited_at is not None and account.activated_at is None
    assert not account.user.has_usable_password()
    assert account.user.email == "petra@schulz.example"


def test_the_invitation_speaks_english_to_an_english_customer(contact, admin_user, run_on_commit):
    contact.customer.language = "en"
    contact.customer.save()
    open_access(contact, admin_user, run_on_commit)
    assert "customer portal" in mail.outbox[0].subject
    assert "Set your password" in mail.outbox[0].body


def test_the_invitation_link_sets_a_password_once(contact, admin_user, run_on_commit):
    open_access(contact, admin_user, run_on_commit)
    link = invitation_link(mail.outbox[0])
    client = Client()
    page = client.get(link, follow=True)
    assert page.status_code == 200 and 'name="new_password1"' in page.content.decode()
    form_url = page.redirect_chain[-1][0]
    # Django's password validators run: a short, common password is refused.
    refused = client.post(form_url, {"new_password1": "12345", "new_password2": "12345"})
    assert refused.status_code == 200 and 'name="new_password1"' in refused.content.decode()
    done = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200  # logged in to the portal
    account = PortalAccount.objects.get(contact=contact)
    assert account.activated_at is not None and account.user.check_password(NEW_PASSWORD)
    # The link is used up.
    again = Client().get(link, follow=True)
    assert 'name="new_password1"' not in again.content.decode()
    assert "nicht mehr gültig" in again.content.decode()


def test_an_expired_invitation_link_is_refused(contact, admin_user, run_on_commit, monkeypatch):
    open_access(contact, admin_user, run_on_commit)
    link = invitation_link(mail.outbox[0])
    later = dt.datetime.now() + dt.timedelta(days=settings.PORTAL_INVITATION_DAYS, hours=1)
    monkeypatch.setattr(invitation_token, "_now", lambda: later)
    page = Client().get(link, follow=True)
    assert 'name="new_password1"' not in page.content.decode()
    assert "nicht mehr gültig" in page.content.decode()


def test_resending_makes_the_earlier_link_invalid(contact, admin_user, run_on_commit, client_for):
    open_access(contact, admin_user, run_on_commit)
    first = invitation_link(mail.outbox[0])
    client = client_for(admin_user)
    response = run_on_commit(client.post, reverse("portal_staff:invite", args=[contact.pk]))
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    assert 'name="new_password1"' not in Client().get(first, follow=True).content.decode()
    assert (
        'name="new_password1"' in Client().get(invitation_link(mail.outbox[1]), follow=True).content.decode()
    )


def test_resending_needs_the_right_to_change_customers(
    contact, admin_user, readonly_user, run_on_commit, client_for
):
    open_access(contact, admin_user, run_on_commit)
    response = client_for(readonly_user).post(reverse("portal_staff:invite", args=[contact.pk]))
    assert response.status_code == 403
    assert len(mail.outbox) == 1


def test_resending_is_post_only(contact, admin_user, run_on_commit, client_for):
    open_access(contact, admin_user, run_on_commit)
    assert client_for(admin_user).get(reverse("portal_staff:invite", args=[contact.pk])).status_code == 405


def test_a_contact_without_access_is_not_invited(contact, client_for, admin_user):
    response = client_for(admin_user).post(reverse("portal_staff:invite", args=[contact.pk]), follow=True)
    assert "Nur ein aktiver Kontakt" in response.content.decode()
    assert not PortalAccount.objects.filter(contact=contact).exists()
    assert mail.outbox == []


def test_the_customer_page_shows_the_portal_status(contact, admin_user, run_on_commit, client_for):
    client = client_for(admin_user)
    url = reverse("customers:detail", args=[contact.customer.pk])
    open_access(contact, admin_user, run_on_commit)
    page = client.get(url).content.decode()
    assert "Eingeladen" in page and "Einladung erneut senden" in page
    account = PortalAccount.objects.get(contact=contact)
    account.activated_at = timezone.now()
    account.save()
    page = client.get(url).content.decode()
    assert "Portal aktiv" in page and "noch nie angemeldet" in page
    account.user.last_login = timezone.make_aware(dt.datetime(2026, 11, 30, 9, 15))
    account.user.save()
    page = client.get(url).content.decode()
    assert "letzte Anmeldung 30.11.2026" in page


def test_taking_access_away_in_the_back_office_ends_the_session(
    portal, portal_contact, admin_user, client_for
):
    assert portal.get(reverse("portal:home")).status_code == 200
    client = client_for(admin_user)
    url = reverse("customers:contact_edit", args=[portal_contact.customer.pk, portal_contact.pk])
    form = {
        "last_name": portal_contact.last_name,
        "first_name": portal_contact.first_name,
        "email": portal_contact.email,
        "is_active": "on",
    }
    assert client.post(url, form).status_code == 302
    portal_contact.refresh_from_db()
    assert not portal_contact.has_portal_access
    response = portal.get(reverse("portal:home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))


def test_deactivating_the_contact_ends_the_session(portal, portal_contact, admin_user, client_for):
    assert portal.get(reverse("portal:documents")).status_code == 200
    toggle = reverse("customers:contact_toggle", args=[portal_contact.customer.pk, portal_contact.pk])
    assert client_for(admin_user).post(toggle).status_code == 302
    response = portal.get(reverse("portal:documents"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))
    # And it cannot log in again.
    login = Client().post(
        reverse("portal:login"), {"username": portal_contact.email, "password": PORTAL_PASSWORD}
    )
    assert login.status_code == 200


def test_last_login_is_recorded_when_the_contact_logs_in(portal_user, portal_contact):
    assert portal_user.last_login is None
    Client().post(reverse("portal:login"), {"username": portal_contact.email, "password": PORTAL_PASSWORD})
    portal_user.refresh_from_db()
    assert portal_user.last_login is not None


def test_the_staff_login_sends_a_portal_user_to_the_portal(portal_user, portal_contact):
    response = Client().post(
        reverse("login"), {"username": portal_user.username, "password": PORTAL_PASSWORD}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Kundenportal" in page and reverse("portal:login") in page
    by_email = Client().post(
        reverse("login"), {"username": portal_contact.email, "password": PORTAL_PASSWORD}
    )
    assert by_email.status_code == 200 and "Kundenportal" in by_email.content.decode()


def test_a_portal_client_helper_still_works(portal_user):
    assert portal_client(portal_user).get(reverse("portal:home")).status_code == 200
