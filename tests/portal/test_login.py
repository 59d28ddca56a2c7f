"""Logging in to the portal: by e-mail address, the same address at two companies,
django-axes' lockout, and the password reset whose link lives under /portal/."""

from __future__ import annotations

import re

from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.customers.factories import ContactFactory, CustomerFactory
from tests.portal.conftest import PORTAL_PASSWORD, portal_account

NEW_PASSWORD = "Regenschirm-Gelb-77"


def login(client, email, password):
    return client.post(reverse("portal:login"), {"username": email, "password": password})


def test_a_contact_logs_in_with_its_e_mail_address(portal_contact, portal_user):
    client = Client()
    response = login(client, portal_contact.email.upper(), PORTAL_PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    assert "Kanzlei Weber" in client.get(reverse("portal:home")).content.decode()


def test_the_same_address_at_two_companies_opens_the_account_whose_password_matches(org, other_org):
    first = ContactFactory(
        customer=CustomerFactory(organization=org, name="Alpha GmbH"),
        has_portal_access=True,
        email="anna@beide.example",
    )
    second = ContactFactory(
        customer=CustomerFactory(organization=other_org, name="Beta AG"),
        has_portal_access=True,
        email="anna@beide.example",
    )
    portal_account(first)
    account = portal_account(second)
    account.user.set_password("Ganz-Anderes-Passwort-9")
    account.user.save()
    client = Client()
    assert login(client, "anna@beide.example", "Ganz-Anderes-Passwort-9").status_code == 302
    page = client.get(reverse("portal:home")).content.decode()
    assert "Beta AG" in page and "Alpha GmbH" not in page
    other = Client()
    assert login(other, "anna@beide.example", PORTAL_PASSWORD).status_code == 302
    assert "Alpha GmbH" in other.get(reverse("portal:home")).content.decode()


def test_the_portal_login_locks_after_the_failure_limit(portal_contact, portal_user):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, portal_contact.email, "wrong-password").status_code == 200
    # The failure that reaches the limit locks the account ...
    assert login(client, portal_contact.email, "wrong-password").status_code == 429
    # ... and then even the right password does not open it.
    locked = login(client, portal_contact.email, PORTAL_PASSWORD)
    assert locked.status_code == 429
    assert "gesperrt" in locked.content.decode()
    assert client.get(reverse("portal:home")).status_code == 302  # not logged in


def test_a_wrong_password_gets_a_clear_message(portal_contact, portal_user):
    response = login(Client(), portal_contact.email, "wrong-password")
    assert "E-Mail-Adresse oder Passwort ist falsch" in response.content.decode()


def test_the_password_reset_mails_a_portal_link_that_sets_a_new_password(portal_contact, portal_user):
    client = Client()
    response = client.post(reverse("portal:password_reset"), {"email": portal_contact.email})
    assert response.status_code == 302 and response["Location"] == reverse("portal:password_reset_done")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [portal_contact.email]
    link = re.search(r"https?://[^/\s]+(/portal/password-reset/[^\s]+/)", mail.outbox[0].body).group(1)
    page = client.get(link, follow=True)
    form_url = page.redirect_chain[-1][0]
    assert form_url.startswith("/portal/")
    done = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    portal_user.refresh_from_db()
    assert portal_user.check_password(NEW_PASSWORD)
    assert login(Client(), portal_contact.email, NEW_PASSWORD).status_code == 302


def test_the_portal_reset_does_not_reset_a_staff_account(admin_user):
    admin_user.email = "chef@nordtek.example"
    admin_user.save()
    response = Client().post(reverse("portal:password_reset"), {"email": "chef@nordtek.example"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_the_login_page_speaks_english_on_request():
    client = Client()
    client.post(reverse("set_language"), {"language": "en", "next": reverse("portal:login")})
    page = client.get(reverse("portal:login")).content.decode()
    assert "E-mail address" in page and "Forgot your password?" in page
