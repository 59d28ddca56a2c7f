"""Opening the address of a button's action explains itself instead of an empty page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .factories import ProspectFactory

pytestmark = pytest.mark.django_db


def test_a_get_on_a_post_only_action_explains_and_leads_back(admin_client, org):
    prospect = ProspectFactory(organization=org)
    response = admin_client.get(reverse("customers:convert", args=[prospect.pk]))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    html = response.content.decode()
    assert "nur über ihre Schaltfläche" in html
    assert f'href="{reverse("customers:detail", args=[prospect.pk])}"' in html
    prospect.refresh_from_db()
    assert prospect.is_prospect


def test_the_back_link_is_the_referring_page_of_this_site_only(admin_client, org):
    prospect = ProspectFactory(organization=org)
    url = reverse("customers:convert", args=[prospect.pk])
    response = admin_client.get(url, HTTP_REFERER="http://testserver/customers/prospects/")
    assert 'href="http://testserver/customers/prospects/"' in response.content.decode()
    response = admin_client.get(url, HTTP_REFERER="https://evil.example/phish")
    assert "evil.example" not in response.content.decode()


def test_a_post_to_a_read_only_page_gets_the_page_too(admin_client, org):
    response = admin_client.post(reverse("customers:list"))
    assert response.status_code == 405
    assert "nur über ihre Schaltfläche" in response.content.decode()
