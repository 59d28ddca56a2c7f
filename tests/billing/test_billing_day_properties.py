"""No day is ever billed twice, whatever happens between runs (hypothesis, through the
real services and runs).

Between monthly runs the organization's or the folder's billing day changes - through
the services (the pin and the refusals apply) or straight in the database, as a change
that raced a run would leave it - and holds and billing-date overrides come and go.
Whatever the sequence: per line and day, the charges (net of credits) never bill more
than the line's quantity. What cannot be settled is listed as a conflict, never billed.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from folders.models import Folder
from folders.services import folder_update
from organizations.models import Organization
from organizations.months import first_of_month_after
from organizations.services import organization_update
from tests.billing import factories as f
from tests.billing.helpers import bill, overbilled_days

pytestmark = pytest.mark.django_db

FIRST = dt.date(2026, 11, 1)

days = st.integers(min_value=1, max_value=28)
steps = st.one_of(
    st.tuples(st.just("none")),
    st.tuples(st.just("organization_day"), days),
    st.tuples(st.just("folder_day"), days),
    st.tuples(st.just("forced_day"), days),  # past the pin, as a change racing a run
    st.tuples(st.just("hold"), st.integers(min_value=0, max_value=40)),
    st.tuples(st.just("release")),
    st.tuples(st.just("not_before"), st.integers(min_value=0, max_value=45)),
)


def _apply(step: tuple, org: Organization, folder: Folder, month: dt.date, user) -> None:
    kind, *args = step
    try:
        if kind == "organization_day":
            organization_update(organization=org, user=user, data={"billing_day": args[0]})
        elif kind == "folder_day":
            folder_update(folder=folder, user=user, data={"billing_day": args[0]})
        elif kind == "forced_day":
            Folder.objects.filter(pk=folder.pk).update(billing_day=args[0])
        elif kind == "hold":
            until = month + dt.timedelta(days=args[0])
            folder_update(
                folder=folder,
                user=user,
                data={"billing_hold": True, "billing_hold_reason": "Prüfung", "billing_hold_until": until},
            )
        elif kind == "release":
            folder_update(folder=folder, user=user, data={"billing_hold": False})
        elif kind == "not_before":
            folder_update(
                folder=folder, user=user, data={"next_billing_not_before": month + dt.timedelta(days=args[0])}
            )
    except ValidationError:
        pass  # refused: nothing changed, which is one of the outcomes under test
    folder.refresh_from_db()
    org.refresh_from_db()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=st.lists(steps, min_size=4, max_size=4))
def test_it_never_bills_a_day_twice_whatever_changes_between_runs(org, admin_user, plan):
    with transaction.atomic():
        organization = Organization.objects.get(pk=org.pk)
        folder = f.folder(organization)
        lines = [
            f.recurring(folder, price="31.00", start=dt.date(2026, 10, 5)),
            f.recurring(folder, price="31.00", timing="arrears", start=dt.date(2026, 10, 20)),
            f.recurring(folder, price="90.00", cycle=3, start=dt.date(2026, 10, 1), setup_fee="49.00"),
        ]
        month = FIRST
        bill(organization, month)
        for step in plan:
            month = first_of_month_after(month, 1)
            _apply(step, organization, folder, month, admin_user)
            bill(organization, month)
        for line in lines:
            assert overbilled_days(line) == [], (line.description, plan)
        transaction.set_rollback(True)  # every example starts from the same database
