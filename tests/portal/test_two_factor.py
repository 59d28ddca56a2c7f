"""Two-factor login in the customer portal: the same two steps as the back office, in the
portal's own session, and the contact's own security page."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from organizations.models import AuditEntry
from organizations.two_factor import PENDING_KEY
from tests.conftest import PASSWORD
from tests.organizations.test_two_factor import code_for, device_for, unthrottle, wrong_code

from .conftest import PORTAL_PASSWORD

pytestmark = pytest.mark.django_db

HOME = "/portal/"
LOGIN = "/portal/login/"
CODE = "/portal/login/code/"
SECURITY = "/portal/security/"


def password_step(client: Client, user, **extra):
    return client.post(LOGIN, {"username": user.username, "password": PORTAL_PASSWORD, **extra})


def in_portal(client: Client) -> bool:
    return client.get(HOME).status_code == 200


def test_the_urls_live_in_the_portal_namespace():
    assert reverse("portal:login_code") == CODE
    assert reverse("portal:security") == SECURITY


def test_it_logs_in_a_contact_without_two_factor_with_the_password_alone(portal_user):
    client = Client()
    response = password_step(client, portal_user)
    assert response.status_code == 302 and response["Location"] == HOME
    assert in_portal(client)


def test_the_password_alone_does_not_log_in_a_contact_with_two_factor(portal_user):
    device_for(portal_user)
    client = Client()
    response = password_step(client, portal_user)
    assert response.status_code == 302 and response["Location"] == CODE
    assert not in_portal(client)


def test_it_refuses_a_wrong_code_and_logs_in_with_the_right_one(portal_user):
    device = device_for(portal_user)
    client = Client()
    password_step(client, portal_user)
    refused = client.post(CODE, {"code": wrong_code(device)})
    assert refused.status_code == 200
    assert refused.context["form"].errors["code"]
    assert not in_portal(client)
    unthrottle(device)
    response = client.post(CODE, {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == HOME
    assert in_portal(client)


def test_the_code_step_uses_the_portals_page(portal_user):
    device_for(portal_user)
    client = Client()
    password_step(client, portal_user)
    page = client.get(CODE)
    assert page.status_code == 200
    assert "portal/security_login_code.html" in [t.name for t in page.templates]
    assert LOGIN in page.content.decode()


def test_an_unconfirmed_device_does_not_count_in_the_portal(portal_user):
    device_for(portal_user, confirmed=False)
    client = Client()
    assert password_step(client, portal_user)["Location"] == HOME
    assert in_portal(client)


def test_the_portals_code_step_cannot_be_reached_without_the_password(portal_user):
    device = device_for(portal_user)
    client = Client()
    assert client.get(CODE)["Location"] == LOGIN
    response = client.post(CODE, {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not in_portal(client)


def test_a_staff_password_step_does_not_open_the_portals_code_step(admin_user, portal_user):
    """The half-logged-in state lives in the session of its side; the back office's does
    not reach the portal."""
    device_for(admin_user)
    client = Client()
    client.post("/accounts/login/", {"username": admin_user.username, "password": PASSWORD})
    assert client.session[PENDING_KEY]["user"] == admin_user.pk
    assert client.get(CODE)["Location"] == LOGIN


def portal_session(client: Client) -> dict:
    cookie = client.cookies.get(settings.PORTAL_SESSION_COOKIE_NAME)
    if cookie is None:
        return {}
    return import_module(settings.SESSION_ENGINE).SessionStore(cookie.value).load()


def test_a_staff_account_with_two_factor_gets_no_code_step_in_the_portal(admin_user):
    device_for(admin_user)
    client = Client()
    response = client.post(LOGIN, {"username": admin_user.username, "password": PASSWORD})
    assert response.status_code == 200
    assert PENDING_KEY not in portal_session(client)


def test_the_pending_state_is_kept_in_the_portals_session(portal_user):
    device_for(portal_user)
    client = Client()
    password_step(client, portal_user)
    assert portal_session(client)[PENDING_KEY]["user"] == portal_user.pk
    assert "_auth_user_id" not in portal_session(client)


def test_the_security_page_needs_a_portal_login(admin_client):
    assert Client().get(SECURITY)["Location"].startswith(LOGIN)
    # A back-office login is no portal login.
    assert admin_client.get(SECURITY)["Location"].startswith(LOGIN)


def test_a_contact_turns_two_factor_on_and_off(portal, portal_user, portal_contact, org):
    page = portal.get(SECURITY)
    assert page.status_code == 200
    assert "portal/base.html" in [t.name for t in page.templates]
    portal.post(SECURITY, {"action": "start"})
    device = TOTPDevice.objects.get(user=portal_user)
    assert "<svg" in portal.get(SECURITY).content.decode()
    assert portal.post(SECURITY, {"action": "confirm", "confirm-code": code_for(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    enabled = AuditEntry.objects.get(organization=org, action="portal_account.two_factor_enabled")
    # Filed under the contact, where the back office reads its history.
    assert enabled.object_type == "customers.contact" and enabled.object_id == portal_contact.pk

    fresh = Client()
    assert password_step(fresh, portal_user)["Location"] == CODE

    response = portal.post(SECURITY, {"action": "disable", "disable-proof": PORTAL_PASSWORD})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=portal_user).exists()
    assert AuditEntry.objects.filter(organization=org, action="portal_account.two_factor_disabled").exists()
    assert password_step(Client(), portal_user)["Location"] == HOME


def test_a_wrong_proof_does_not_turn_it_off_in_the_portal(portal, portal_user):
    device = device_for(portal_user)
    response = portal.post(SECURITY, {"action": "disable", "disable-proof": wrong_code(device)})
    assert response.status_code == 200
    assert TOTPDevice.objects.filter(user=portal_user, confirmed=True).exists()
