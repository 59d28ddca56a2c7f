"""`seed_demo` fills every screen and is idempotent: a second run creates nothing, also
after people have worked with the demo data."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from customers import services as customer_services
from customers.models import Customer, CustomerKind, Note
from folders.models import Folder
from organizations.models import Membership, Organization, TenantModel

pytestmark = pytest.mark.slow


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if issubclass(model, TenantModel) and model._meta.app_label != "organizations"
    }


def _assert_payments_tell_a_true_story(org) -> None:
    """Something to dun today; nothing settled in the future; no letter for an invoice
    paid before it."""
    from django.utils import timezone

    from payments.dunning_selectors import dunning_proposal
    from payments.models import Allocation, BatchStatus, DirectDebitBatch, DunningNotice

    today = timezone.localdate()
    assert dunning_proposal(organization=org, today=today).payers
    settled = DirectDebitBatch.objects.filter(organization=org, status=BatchStatus.SETTLED)
    assert settled.exists() and all(batch.collection_date <= today for batch in settled)
    assert not Allocation.objects.filter(date__gt=today).exists()
    for notice in DunningNotice.objects.filter(organization=org):
        paid = Allocation.objects.filter(document=notice.invoice_id, date__lte=notice.date, amount__gt=0)
        assert not paid.exists(), notice


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
    assert first["payments.Payment"] >= 5
    assert first["payments.BankStatement"] == 1
    assert first["payments.StatementEntry"] >= 5
    assert first["payments.DunningLevel"] == 3
    assert first["payments.DunningNotice"] >= 1
    _assert_payments_tell_a_true_story(org)
    assert {m.role for m in Membership.objects.filter(organization=org)} == {
        "admin",
        "billing",
        "sales",
        "support",
        "readonly",
    }
    call_command("seed_demo", only="nordtek", stdout=io.StringIO())
    assert _counts() == first


@pytest.mark.django_db
def test_it_adds_nothing_after_people_worked_with_the_demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", only="nordtek", stdout=io.StringIO())
    org = Organization.objects.get(slug="nordtek")
    admin = get_user_model().objects.get(username="admin")
    prospect = Customer.objects.filter(organization=org, kind=CustomerKind.PROSPECT).order_by("number")[0]
    customer_services.prospect_convert(customer=prospect, user=admin)
    handmade = customer_services.customer_create(
        organization=org, user=admin, data={"name": "Handwerk Müller GmbH", "city": "Kiel"}
    )
    renamed = Customer.objects.get(organization=org, name="Brandt Bürotechnik GmbH")
    customer_services.customer_update(
        customer=renamed, user=admin, data={"name": "Brandt Bürotechnik Berlin GmbH", "city": "Potsdam"}
    )
    note = Note.objects.filter(organization=org).order_by("id")[0]
    customer_services.note_delete(note=note, user=admin)
    before = _counts()

    call_command("seed_demo", only="nordtek", stdout=io.StringIO())

    assert _counts() == before
    assert not Folder.objects.filter(customer=handmade).exists()
    assert not Customer.objects.filter(organization=org, name="Brandt Bürotechnik GmbH").exists()
    assert not Note.objects.filter(customer=note.customer, text=note.text).exists()


@pytest.mark.django_db
def test_it_takes_over_an_organization_seeded_before_it_kept_its_keys(settings, tmp_path):
    from demo.models import DemoRecord

    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", only="nordtek", stdout=io.StringIO())
    DemoRecord.objects.all().delete()
    before = _counts()

    call_command("seed_demo", only="nordtek", stdout=io.StringIO())

    after = _counts()
    assert after.pop("demo.DemoRecord") > 100
    before.pop("demo.DemoRecord")
    assert after == before
