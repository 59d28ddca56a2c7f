"""Two-factor login for staff: password, then a code from the authenticator app - only
for users who turned it on; the security page; an administrator's reset."""

from __future__ import annotations

import time
from base64 import b32decode
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from organizations.models import AuditEntry, Membership
from organizations.two_factor import MAX_CODE_ATTEMPTS, PENDING_KEY, provisioning_uri
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
CODE = "/accounts/login/code/"
SECURITY = "/organization/security/"


def code_for(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the authenticator app shows now (or `steps_ahead` time steps later),
    computed from the device's key by django-otp's own TOTP arithmetic."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    # Neither the current code nor its neighbours (tolerance of one step each way).
    valid = {code_for(device, steps_ahead=n) for n in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def unthrottle(device: TOTPDevice) -> None:
    """As if the wait after the last wrong code had passed."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timezone.timedelta(hours=1)
    )


def device_for(user, *, confirmed: bool = True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=confirmed)


def logged_in_as(client: Client):
    return client.session.get("_auth_user_id")


def password_step(client: Client, user, **extra):
    return client.post(LOGIN, {"username": user.username, "password": PASSWORD, **extra})


@pytest.fixture
def two_factor_user(admin_user):
    device_for(admin_user)
    return admin_user


# --- Logging in ----------------------------------------------------------------------


def test_it_logs_in_a_user_without_two_factor_with_the_password_alone(admin_user):
    client = Client()
    response = password_step(client, admin_user)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert logged_in_as(client) == str(admin_user.pk)


def test_the_password_alone_does_not_log_in_a_user_with_two_factor(two_factor_user):
    client = Client()
    response = password_step(client, two_factor_user)
    assert response.status_code == 302
    assert response["Location"] == CODE
    assert logged_in_as(client) is None
    assert client.session[PENDING_KEY]["user"] == two_factor_user.pk
    # No back-office page opens in the half-logged-in state.
    dashboard = client.get("/")
    assert dashboard.status_code == 302 and dashboard["Location"].startswith(LOGIN)


def test_it_refuses_a_wrong_code(two_factor_user):
    client = Client()
    password_step(client, two_factor_user)
    device = TOTPDevice.objects.get(user=two_factor_user)
    response = client.post(CODE, {"code": wrong_code(device)})
    assert response.status_code == 200
    assert "abgelaufen" in response.content.decode() or "expired" in response.content.decode()
    assert logged_in_as(client) is None
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_it_logs_in_with_the_right_code_and_goes_where_the_user_wanted(two_factor_user):
    client = Client()
    password_step(client, two_factor_user, next="/customers/")
    device = TOTPDevice.objects.get(user=two_factor_user)
    response = client.post(CODE, {"code": code_for(device)})
    assert response.status_code == 302
    assert response["Location"] == "/customers/"
    assert logged_in_as(client) == str(two_factor_user.pk)
    assert PENDING_KEY not in client.session
    assert client.get("/").status_code == 200


def test_a_code_with_spaces_is_accepted(two_factor_user):
    client = Client()
    password_step(client, two_factor_user)
    code = code_for(TOTPDevice.objects.get(user=two_factor_user))
    response = client.post(CODE, {"code": f"{code[:3]} {code[3:]}"})
    assert response.status_code == 302
    assert logged_in_as(client) == str(two_factor_user.pk)


def test_a_code_cannot_be_used_twice(two_factor_user):
    device = TOTPDevice.objects.get(user=two_factor_user)
    code = code_for(device)
    first = Client()
    password_step(first, two_factor_user)
    assert first.post(CODE, {"code": code}).status_code == 302
    second = Client()
    password_step(second, two_factor_user)
    assert second.post(CODE, {"code": code}).status_code == 200
    assert logged_in_as(second) is None


def test_an_unconfirmed_device_does_not_count(admin_user):
    device_for(admin_user, confirmed=False)
    client = Client()
    response = password_step(client, admin_user)
    assert response["Location"] == reverse("dashboard")
    assert logged_in_as(client) == str(admin_user.pk)


def test_a_wrong_password_is_refused_before_any_code(two_factor_user):
    client = Client()
    response = client.post(LOGIN, {"username": two_factor_user.username, "password": "wrong"})
    assert response.status_code == 200
    assert PENDING_KEY not in client.session
    assert client.get(CODE)["Location"] == LOGIN


def test_the_code_step_cannot_be_reached_without_the_password(two_factor_user):
    client = Client()
    response = client.get(CODE)
    assert response.status_code == 302 and response["Location"] == LOGIN
    device = TOTPDevice.objects.get(user=two_factor_user)
    response = client.post(CODE, {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert logged_in_as(client) is None


def test_the_password_step_expires(two_factor_user, settings):
    client = Client()
    password_step(client, two_factor_user)
    session = client.session
    state = session[PENDING_KEY]
    state["since"] -= settings.TWO_FACTOR_PENDING_SECONDS + 1
    session[PENDING_KEY] = state
    session.save()
    response = client.post(CODE, {"code": code_for(TOTPDevice.objects.get(user=two_factor_user))})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert logged_in_as(client) is None


def test_wrong_codes_are_throttled_even_the_right_one_right_after(two_factor_user):
    client = Client()
    password_step(client, two_factor_user)
    device = TOTPDevice.objects.get(user=two_factor_user)
    client.post(CODE, {"code": wrong_code(device)})
    response = client.post(CODE, {"code": code_for(device)})
    assert response.status_code == 200
    assert logged_in_as(client) is None
    assert "Warten" in response.content.decode() or "Wait" in response.content.decode()
    # Once the wait is over, the right code gets in.
    unthrottle(device)
    assert client.post(CODE, {"code": code_for(device)}).status_code == 302
    assert logged_in_as(client) == str(two_factor_user.pk)


def test_too_many_wrong_codes_send_the_user_back_to_the_password(two_factor_user, settings):
    settings.AXES_FAILURE_LIMIT = 100
    client = Client()
    password_step(client, two_factor_user)
    device = TOTPDevice.objects.get(user=two_factor_user)
    for _ in range(MAX_CODE_ATTEMPTS - 1):
        assert client.post(CODE, {"code": wrong_code(device)}).status_code == 200
        unthrottle(device)
    response = client.post(CODE, {"code": wrong_code(device)})
    assert response.status_code == 302 and response["Location"] == LOGIN
    unthrottle(device)
    response = client.post(CODE, {"code": code_for(device)})
    assert response["Location"] == LOGIN
    assert logged_in_as(client) is None


def test_wrong_codes_count_as_failed_logins_for_axes(two_factor_user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    password_step(client, two_factor_user)
    device = TOTPDevice.objects.get(user=two_factor_user)
    client.post(CODE, {"code": wrong_code(device)})
    assert AccessAttempt.objects.get(username=two_factor_user.username).failures_since_start == 1
    unthrottle(device)
    client.post(CODE, {"code": wrong_code(device)})
    unthrottle(device)
    locked = client.post(CODE, {"code": wrong_code(device)})
    assert locked.status_code == 429
    # Locked out: even the password no longer opens the code step.
    again = password_step(Client(), two_factor_user)
    assert again.status_code == 429


def test_a_successful_login_with_a_code_clears_the_failed_attempts(two_factor_user):
    client = Client()
    password_step(client, two_factor_user)
    device = TOTPDevice.objects.get(user=two_factor_user)
    client.post(CODE, {"code": wrong_code(device)})
    unthrottle(device)
    client.post(CODE, {"code": code_for(device)})
    assert logged_in_as(client) == str(two_factor_user.pk)
    assert not AccessAttempt.objects.filter(username=two_factor_user.username, failures_since_start__gt=0)


# --- The security page ---------------------------------------------------------------


def test_the_security_page_needs_a_login():
    response = Client().get(SECURITY)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_the_user_menu_links_to_the_security_page(sales_user, client_for):
    assert SECURITY in client_for(sales_user).get("/").content.decode()


def test_setting_up_shows_a_qr_code_and_the_secret_but_is_not_on_before_a_code(sales_user, client_for, org):
    client = client_for(sales_user)
    page = client.get(SECURITY).content.decode()
    assert 'value="start"' in page
    assert client.post(SECURITY, {"action": "start"}).status_code == 302
    device = TOTPDevice.objects.get(user=sales_user)
    assert not device.confirmed
    page = client.get(SECURITY).content.decode()
    assert "<svg" in page
    # The secret as text decodes (independently, by the standard library) to the device's key.
    secret = page.split('id="two-factor-secret">')[1].split("<")[0]
    assert b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8)) == device.bin_key
    # The password alone still logs in: the setup is not finished.
    fresh = Client()
    password_step(fresh, sales_user)
    assert logged_in_as(fresh) == str(sales_user.pk)


def test_the_qr_code_carries_an_otpauth_uri_for_the_users_organization(sales_user, org):
    device = device_for(sales_user, confirmed=False)
    parts = urlsplit(provisioning_uri(device, issuer=org.name))
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert unquote(parts.path) == f"/{org.name}:{sales_user.username}"
    query = parse_qs(parts.query)
    assert query["issuer"] == [org.name]
    assert b32decode(query["secret"][0] + "=" * (-len(query["secret"][0]) % 8)) == device.bin_key


def test_a_right_code_turns_two_factor_on_with_an_audit_entry(sales_user, client_for, org):
    client = client_for(sales_user)
    client.post(SECURITY, {"action": "start"})
    device = TOTPDevice.objects.get(user=sales_user)
    response = client.post(SECURITY, {"action": "confirm", "confirm-code": code_for(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEntry.objects.filter(
        organization=org, action="membership.two_factor_enabled", user=sales_user
    ).exists()
    # From now on the password alone is not enough.
    fresh = Client()
    password_step(fresh, sales_user)
    assert logged_in_as(fresh) is None


def test_a_wrong_code_does_not_turn_it_on(sales_user, client_for):
    client = client_for(sales_user)
    client.post(SECURITY, {"action": "start"})
    device = TOTPDevice.objects.get(user=sales_user)
    response = client.post(SECURITY, {"action": "confirm", "confirm-code": wrong_code(device)})
    assert response.status_code == 200
    assert response.context["confirm_form"].errors["code"]
    device.refresh_from_db()
    assert not device.confirmed
    assert device.throttling_failure_count == 1


def test_a_malformed_code_is_refused_at_the_field(sales_user, client_for):
    client = client_for(sales_user)
    client.post(SECURITY, {"action": "start"})
    response = client.post(SECURITY, {"action": "confirm", "confirm-code": "12ab"})
    assert response.status_code == 200
    assert response.context["confirm_form"].errors["code"]


def test_starting_again_replaces_the_unconfirmed_secret(sales_user, client_for):
    client = client_for(sales_user)
    client.post(SECURITY, {"action": "start"})
    first = TOTPDevice.objects.get(user=sales_user)
    client.post(SECURITY, {"action": "start"})
    assert list(TOTPDevice.objects.filter(user=sales_user).values_list("pk", flat=True)) != [first.pk]
    assert TOTPDevice.objects.filter(user=sales_user).count() == 1
    client.post(SECURITY, {"action": "cancel"})
    assert not TOTPDevice.objects.filter(user=sales_user).exists()


def test_it_turns_off_with_a_current_code(sales_user, client_for, org):
    device = device_for(sales_user)
    client = client_for(sales_user)
    assert "Aktiv" in client.get(SECURITY).content.decode()
    response = client.post(SECURITY, {"action": "disable", "disable-proof": code_for(device)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=sales_user).exists()
    assert AuditEntry.objects.filter(organization=org, action="membership.two_factor_disabled").exists()
    fresh = Client()
    password_step(fresh, sales_user)
    assert logged_in_as(fresh) == str(sales_user.pk)


def test_it_turns_off_with_the_password(sales_user, client_for):
    device_for(sales_user)
    client = client_for(sales_user)
    assert client.post(SECURITY, {"action": "disable", "disable-proof": PASSWORD}).status_code == 302
    assert not TOTPDevice.objects.filter(user=sales_user).exists()


def test_it_does_not_turn_off_without_a_valid_code_or_password(sales_user, client_for):
    device = device_for(sales_user)
    client = client_for(sales_user)
    for proof in ("", wrong_code(device), "not-my-password"):
        unthrottle(device)
        response = client.post(SECURITY, {"action": "disable", "disable-proof": proof})
        assert response.status_code == 200
        assert response.context["disable_form"].errors
    assert TOTPDevice.objects.filter(user=sales_user, confirmed=True).exists()
    assert not AuditEntry.objects.filter(action="membership.two_factor_disabled").exists()


def test_an_unknown_action_changes_nothing(sales_user, client_for):
    device_for(sales_user)
    response = client_for(sales_user).post(SECURITY, {"action": "drop-everything"})
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=sales_user, confirmed=True).exists()


# --- An administrator's reset ---------------------------------------------------------


def reset_url(user, org) -> str:
    membership = Membership.objects.get(user=user, organization=org)
    return reverse("organizations:member_two_factor_reset", args=[membership.pk])


def test_the_users_page_shows_who_logs_in_with_a_code(admin_client, sales_user, billing_user, org):
    device_for(sales_user)
    page = admin_client.get("/organization/members/").content.decode()
    assert page.count("bi-shield-x") == 1
    assert reset_url(sales_user, org) in page
    assert reset_url(billing_user, org) not in page


def test_an_admin_resets_a_colleagues_two_factor_with_an_audit_entry(
    admin_client, admin_user, sales_user, org
):
    device_for(sales_user)
    response = admin_client.post(reset_url(sales_user, org))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=sales_user).exists()
    entry = AuditEntry.objects.get(organization=org, action="membership.two_factor_reset")
    assert entry.user == admin_user and entry.data["user"] == sales_user.username
    fresh = Client()
    password_step(fresh, sales_user)
    assert logged_in_as(fresh) == str(sales_user.pk)


def test_only_an_admin_may_reset(sales_user, billing_user, client_for, org):
    device_for(billing_user)
    response = client_for(sales_user).post(reset_url(billing_user, org))
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=billing_user).exists()


def test_an_admin_cannot_reset_another_organizations_user(outsider, sales_user, client_for, org):
    device_for(sales_user)
    response = client_for(outsider).post(reset_url(sales_user, org))
    assert response.status_code == 404
    assert TOTPDevice.objects.filter(user=sales_user).exists()


def test_the_reset_is_post_only(admin_client, sales_user, org):
    device_for(sales_user)
    assert admin_client.get(reset_url(sales_user, org)).status_code == 405
    assert TOTPDevice.objects.filter(user=sales_user).exists()


def test_a_reset_without_two_factor_says_so_and_writes_nothing(admin_client, sales_user, org):
    response = admin_client.post(reset_url(sales_user, org), follow=True)
    assert response.status_code == 200
    assert not AuditEntry.objects.filter(action="membership.two_factor_reset").exists()
