"""Times are shown in the organization's time zone, on lists, detail pages and history alike."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from billing.models import BillingRun, RunStatus
from organizations.timezones import local_datetime, organization_time

pytestmark = pytest.mark.django_db

LATE_EVENING_UTC = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)


@pytest.fixture
def late_run(org):
    run = BillingRun.objects.create(
        organization=org,
        period=dt.date(2026, 12, 1),
        as_of=dt.date(2026, 12, 1),
        status=RunStatus.DONE,
        invoices_count=3,  # a run that billed something (one with nothing new is not listed)
        finished_at=LATE_EVENING_UTC + dt.timedelta(minutes=5),
        log=[{"at": LATE_EVENING_UTC.isoformat(), "level": "info", "message": "Lauf geplant"}],
    )
    BillingRun.objects.filter(pk=run.pk).update(created_at=LATE_EVENING_UTC)
    return run


def test_the_run_list_and_the_run_page_show_berlin_time_for_a_late_utc_evening(
    client_for, readonly_user, late_run
):
    client = client_for(readonly_user)
    listing = client.get(reverse("billing:runs")).content.decode()
    detail = client.get(reverse("billing:detail", args=[late_run.pk])).content.decode()
    for page in (listing, detail):
        assert "01.12.2026 00:30" in page
        assert "30.11.2026 23:30" not in page
    assert "01.12.2026 00:35" in detail  # finished at
    assert detail.count("01.12.2026 00:30") >= 2  # started at and the log entry


def test_an_organization_elsewhere_sees_its_own_local_time(client_for, readonly_user, org, late_run):
    org.time_zone = "America/New_York"
    org.save(update_fields=["time_zone"])
    client = client_for(readonly_user)
    for url in (reverse("billing:runs"), reverse("billing:detail", args=[late_run.pk])):
        page = client.get(url).content.decode()
        assert "30.11.2026 18:30" in page
        assert "00:30" not in page


def test_python_code_formats_through_the_same_helper(org):
    org.time_zone = "Asia/Tokyo"
    with organization_time(org):
        assert local_datetime(LATE_EVENING_UTC) == "01.12.2026 08:30"
    assert local_datetime(None) == ""


def test_the_settings_refuse_an_unknown_time_zone(client_for, admin_user, org):
    response = client_for(admin_user).get(reverse("organizations:settings"))
    assert "Europe/Berlin" in response.content.decode()
    from organizations.forms import OrganizationForm

    form = OrganizationForm(instance=org, data={"time_zone": "Mars/Olympus"})
    assert not form.is_valid()
    assert "time_zone" in form.errors
