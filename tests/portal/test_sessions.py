"""The portal and the back office keep separate sessions and never open each other's pages."""

from __future__ import annotations

from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.portal.conftest import PORTAL_PASSWORD


def test_a_contact_logs_in_to_the_portal_with_its_own_cookie(portal_user, portal_contact):
    client = Client()
    response = client.post(
        reverse("portal:login"), {"username": portal_user.username, "password": PORTAL_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    cookie = client.cookies[settings.PORTAL_SESSION_COOKIE_NAME]
    assert cookie["path"] == "/portal/"
    assert settings.SESSION_COOKIE_NAME not in client.cookies
    assert portal_contact.last_name in client.get(reverse("portal:home")).content.decode()


def test_a_portal_session_opens_no_back_office_page(portal):
    response = portal.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_staff_session_does_not_open_the_portal(admin_client):
    response = admin_client.get(reverse("portal:home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))


def test_staff_cannot_log_in_to_the_portal(admin_user):
    from tests.conftest import PASSWORD

    response = Client().post(reverse("portal:login"), {"username": admin_user.username, "password": PASSWORD})
    assert response.status_code == 200
    assert (
        "keinen Zugang zum Kundenportal" in response.content.decode()
        or "no access" in response.content.decode()
    )


def test_taking_portal_access_away_ends_the_session_at_once(portal, portal_contact):
    assert portal.get(reverse("portal:home")).status_code == 200
    portal_contact.has_portal_access = False
    portal_contact.save()
    response = portal.get(reverse("portal:home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))
    portal_contact.has_portal_access = True
    portal_contact.save()
    # The session was ended, not just refused once.
    assert portal.get(reverse("portal:home")).status_code == 302


def test_logging_in_to_the_portal_keeps_the_staff_session(admin_client, portal_user):
    admin_client.post(
        reverse("portal:login"), {"username": portal_user.username, "password": PORTAL_PASSWORD}
    )
    assert admin_client.get(reverse("portal:home")).status_code == 200
    assert admin_client.get(reverse("dashboard")).status_code == 200
