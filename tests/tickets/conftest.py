"""Ticket fixtures: a supported customer (a folder whose service package promises 4 h /
24 h) with a portal contact, and the portal fixtures of tests/portal."""

from __future__ import annotations

import pytest

from tests.portal.conftest import portal, portal_account, portal_client, portal_contact, portal_user  # noqa: F401, F811

from .factories import supported_folder


@pytest.fixture
def customer(portal_contact):  # noqa: F811 - the imported fixture, by name
    return portal_contact.customer


@pytest.fixture
def folder(customer):
    return supported_folder(customer, response_hours=4, resolution_hours=24)
