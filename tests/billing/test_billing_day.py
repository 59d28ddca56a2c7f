"""The billing day lays out a line's periods: changing it must never bill a day twice,
and in-arrears periods are due on the run's billing day, not a month later."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.models import BillingCharge, BillingRun, BillingRunFailure, FailureReason, RunStatus
from folders.models import Folder
from folders.services import folder_update
from organizations.services import organization_update
from tests.billing import factories as f
from tests.billing.helpers import bill, charges

D = Decimal
pytestmark = pytest.mark.django_db


def _no_day_twice(line) -> None:
    days: set[dt.date] = set()
    for charge in BillingCharge.objects.filter(recurring_line=line, kind="period"):
        day = charge.service_start
        while day <= charge.service_end:
            assert day not in days, f"{day} billed twice"
            days.add(day)
            day += dt.timedelta(days=1)


def test_a_billed_folder_keeps_its_billing_day(org, admin_user):
    folder = f.folder(org)
    line = f.recurring(folder, start=dt.date(2026, 10, 1))
    with pytest.raises(ValidationError) as exc:
        bill(org, dt.date(2026, 11, 1))
        folder_update(folder=folder, user=admin_user, data={"billing_day": 15})
    assert "30.11.2026" in exc.value.message_dict["billing_day"][0]
    folder.refresh_from_db()
    assert folder.billing_day is None
    bill(org, dt.date(2026, 12, 1))
    _no_day_twice(line)


def test_a_folder_not_billed_yet_may_take_another_billing_day(org, admin_user):
    folder = f.folder(org)
    f.recurring(folder, start=dt.date(2026, 12, 1))
    folder_update(folder=folder, user=admin_user, data={"billing_day": 15})
    folder.refresh_from_db()
    assert folder.billing_day == 15


def test_a_new_organization_billing_day_leaves_billed_folders_on_the_old_one(org, admin_user):
    billed = f.folder(org)
    old_line = f.recurring(billed, price="31.00", start=dt.date(2026, 10, 1))
    fresh = f.folder(org)
    bill(org, dt.date(2026, 11, 1))
    organization_update(organization=org, user=admin_user, data={"billing_day": 15})
    billed.refresh_from_db()
    fresh.refresh_from_db()
    assert (billed.billing_day, fresh.billing_day) == (1, None)
    new_line = f.recurring(fresh, price="30.00", start=dt.date(2026, 12, 15))
    bill(org, dt.date(2026, 12, 1), as_of=dt.date(2026, 12, 15))
    _no_day_twice(old_line)
    assert [c[2:4] for c in charges(old_line)] == [
        (dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        (dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
        (dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
    ]
    assert [c[2:4] for c in charges(new_line)] == [(dt.date(2026, 12, 15), dt.date(2027, 1, 14))]


def test_in_arrears_periods_are_billed_on_the_billing_day_after_they_ended(org, admin_user):
    organization_update(organization=org, user=admin_user, data={"billing_day": 15})
    folder = f.folder(org)
    line = f.recurring(folder, price="30.00", timing="arrears", start=dt.date(2026, 9, 15))
    bill(org, dt.date(2026, 10, 1), as_of=dt.date(2026, 10, 15))
    bill(org, dt.date(2026, 11, 1), as_of=dt.date(2026, 11, 15))
    assert [c[2:4] for c in charges(line)] == [
        (dt.date(2026, 9, 15), dt.date(2026, 10, 14)),
        (dt.date(2026, 10, 15), dt.date(2026, 11, 14)),
    ]


def test_a_run_before_the_billing_day_does_not_bill_a_period_still_running(org, admin_user):
    organization_update(organization=org, user=admin_user, data={"billing_day": 15})
    folder = f.folder(org)
    line = f.recurring(folder, price="30.00", timing="arrears", start=dt.date(2026, 9, 15))
    bill(org, dt.date(2026, 11, 1), as_of=dt.date(2026, 11, 3))
    assert [c[2:4] for c in charges(line)] == [(dt.date(2026, 9, 15), dt.date(2026, 10, 14))]


def test_it_lists_a_line_billed_on_another_billing_day_instead_of_billing_its_days_again(org):
    """The day moved under billed lines (as a change that slipped past the pin during a
    run leaves it): the next run lists the line and bills none of its days again."""
    folder = f.folder(org)
    line = f.recurring(folder, price="31.00", start=dt.date(2026, 10, 1))
    bill(org, dt.date(2026, 12, 1))
    Folder.objects.filter(pk=folder.pk).update(billing_day=15)
    run = bill(org, dt.date(2027, 1, 1))
    _no_day_twice(line)
    assert [c[2:4] for c in charges(line)][-1] == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    failure = BillingRunFailure.objects.get(run=run)
    assert (failure.recurring_line_id, failure.reason) == (line.pk, FailureReason.CONFLICT)
    assert "billed twice" in failure.message


def _running(org) -> BillingRun:
    return BillingRun.objects.create(
        organization=org, period=dt.date(2027, 1, 1), as_of=dt.date(2027, 1, 1), status=RunStatus.RUNNING
    )


def test_it_refuses_a_new_organization_billing_day_while_a_run_is_active(org, admin_user):
    folder = f.folder(org)
    f.recurring(folder, start=dt.date(2026, 12, 1))
    _running(org)
    with pytest.raises(ValidationError) as exc:
        organization_update(organization=org, user=admin_user, data={"billing_day": 15, "city": "Kiel"})
    assert "läuft" in exc.value.message_dict["billing_day"][0]
    assert (org.billing_day, org.city) == (1, "Berlin")
    org.refresh_from_db()
    folder.refresh_from_db()
    assert (org.billing_day, org.city, folder.billing_day) == (1, "Berlin", None)


def test_it_refuses_a_folder_billing_day_while_a_run_is_active(org, admin_user):
    """Not billed yet as far as the database says - but the open chunk may have planned it."""
    folder = f.folder(org)
    f.recurring(folder, start=dt.date(2026, 12, 1))
    _running(org)
    with pytest.raises(ValidationError) as exc:
        folder_update(folder=folder, user=admin_user, data={"billing_day": 15})
    assert "läuft" in exc.value.message_dict["billing_day"][0]
    folder.refresh_from_db()
    assert folder.billing_day is None


def test_it_takes_a_new_billing_day_once_the_run_has_finished(org, admin_user):
    folder = f.folder(org)
    f.recurring(folder, start=dt.date(2027, 2, 1))
    run = _running(org)
    BillingRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE)
    folder_update(folder=folder, user=admin_user, data={"billing_day": 15})
    organization_update(organization=org, user=admin_user, data={"billing_day": 10})
    folder.refresh_from_db()
    org.refresh_from_db()
    assert (folder.billing_day, org.billing_day) == (15, 10)


def test_the_settings_page_says_why_the_billing_day_is_refused_during_a_run(org, admin_client):
    from tests.organizations.test_organization import _settings_data

    _running(org)
    response = admin_client.post("/organization/settings/", _settings_data(org, billing_day="15"))
    assert response.status_code == 200
    assert "Abrechnungslauf" in response.context["form"].errors["billing_day"][0]
    org.refresh_from_db()
    assert org.billing_day == 1
