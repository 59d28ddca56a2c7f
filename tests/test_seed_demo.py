"""`seed_demo` fills every screen and is idempotent: a second run creates nothing."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.core.management import call_command

from organizations.models import Membership, Organization, TenantModel


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if issubclass(model, TenantModel) and model._meta.app_label != "organizations"
    }


@pytest.mark.django_db
def test_seed_demo_creates_a_full_organization_once(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", only="nordtek", stdout=io.StringIO())
    org = Organization.objects.get(slug="nordtek")
    first = _counts()
    assert first["customers.Customer"] >= 55
    assert first["folders.Folder"] >= 40
    assert first["documents.Document"] >= 20
    assert first["billing.BillingRun"] >= 1
    assert {m.role for m in Membership.objects.filter(organization=org)} == {
        "admin",
        "billing",
        "sales",
        "support",
        "readonly",
    }
    call_command("seed_demo", only="nordtek", stdout=io.StringIO())
    assert _counts() == first
