"""Shared fixtures: two organizations and one member per role.

Scopes are disabled for test set-up and assertions (as pretix does), so fixtures can
create rows of several organizations; requests through the test client still pass the
middleware, which opens the real organization scope. Tests that prove the scope wall
re-enable it explicitly.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from organizations.roles import Role
from tests.organizations.factories import MembershipFactory, OrganizationFactory, UserFactory

PASSWORD = "secret-pass-123"


@pytest.fixture(autouse=True)
def _no_scopes():
    with scopes_disabled():
        yield


@pytest.fixture(autouse=True)
def _default_language():
    """A request through the test client activates its language in this thread and leaves
    it active; every test starts from the product's default (German)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _reset_axes(db):
    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()


@pytest.fixture
def org(db):
    return OrganizationFactory(slug="nordtek", name="Nordtek Bürosysteme GmbH")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(slug="suedcom", name="Südcom Telekommunikation GmbH")


def _member(org, role: str, username: str):
    user = UserFactory(username=username)
    MembershipFactory(organization=org, user=user, role=role)
    return user


def _member_fixture(role: str, username: str):
    """A fixture: the member of `org` who has `role`."""

    @pytest.fixture
    def member(org):
        return _member(org, role, username)

    return member


admin_user = _member_fixture(Role.ADMIN, "admin")
billing_user = _member_fixture(Role.BILLING, "billing")
sales_user = _member_fixture(Role.SALES, "sales")
support_user = _member_fixture(Role.SUPPORT, "support")
readonly_user = _member_fixture(Role.READONLY, "readonly")


@pytest.fixture
def members(admin_user, billing_user, sales_user, support_user, readonly_user):
    """One member of `org` per role, by role name (the `users` the demo seed takes)."""
    return {
        "admin": admin_user,
        "billing": billing_user,
        "sales": sales_user,
        "support": support_user,
        "readonly": readonly_user,
    }


@pytest.fixture
def outsider(other_org):
    """Admin of the other organization: must never see anything of `org`."""
    return _member(other_org, Role.ADMIN, "outsider")


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(admin_user):
    return login(admin_user)


@pytest.fixture
def client_for():
    """client_for(user) -> a logged-in test client."""
    return login
