"""Edits made from an instance read before a run: the run's writes survive them.

`billed_through` and a one-off line's invoice fields are written by the billing run
alone; a clerk's edit saves only the fields it changed and judges its guards on what
the run committed (the row is locked and re-read), never on a stale instance.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from folders import services
from folders.models import OneOffLine, RecurringLine
from tests.billing import factories as f
from tests.billing.helpers import bill

pytestmark = pytest.mark.django_db

DEC = dt.date(2026, 12, 1)


@pytest.fixture
def line(org):
    return f.recurring(f.folder(org), price="31.00", start=DEC)


def test_it_keeps_billed_through_when_a_line_read_before_the_run_is_edited(org, admin_user, line):
    stale = RecurringLine.objects.get(pk=line.pk)
    bill(org, DEC)
    services.recurring_line_update(line=stale, user=admin_user, data={"description": "SIP-Trunk Premium"})
    line.refresh_from_db()
    assert (line.description, line.billed_through) == ("SIP-Trunk Premium", dt.date(2026, 12, 31))


def test_it_refuses_to_move_the_start_of_a_line_billed_since_it_was_read(org, admin_user, line):
    stale = RecurringLine.objects.get(pk=line.pk)
    bill(org, DEC)
    with pytest.raises(ValidationError) as exc:
        services.recurring_line_update(line=stale, user=admin_user, data={"start_date": dt.date(2026, 11, 1)})
    assert "31.12.2026" in exc.value.message_dict["start_date"][0]
    line.refresh_from_db()
    assert (line.start_date, line.billed_through) == (DEC, dt.date(2026, 12, 31))


def test_it_refuses_to_delete_a_line_billed_since_it_was_read(org, admin_user, line):
    stale = RecurringLine.objects.get(pk=line.pk)
    bill(org, DEC)
    with pytest.raises(ValidationError):
        services.recurring_line_delete(line=stale, user=admin_user)
    assert RecurringLine.objects.filter(pk=line.pk).exists()


def test_a_price_change_of_a_line_billed_since_it_was_read_becomes_a_version(org, admin_user, line):
    stale = RecurringLine.objects.get(pk=line.pk)
    bill(org, DEC)
    services.recurring_line_update(
        line=stale, user=admin_user, data={"unit_price": f.D("62.00")}, effective_from=dt.date(2026, 12, 16)
    )
    line.refresh_from_db()
    assert line.changes.count() == 1
    assert line.billed_through == dt.date(2026, 12, 31)


def test_it_keeps_the_invoice_of_a_one_off_line_invoiced_since_it_was_read(org, admin_user):
    folder = f.folder(org)
    f.recurring(folder, start=DEC)
    hardware = f.oneoff(folder, equipment=False)
    stale = OneOffLine.objects.get(pk=hardware.pk)
    bill(org, DEC)
    hardware.refresh_from_db()
    assert hardware.invoice_document_id is not None
    with pytest.raises(ValidationError):
        services.oneoff_line_update(line=stale, user=admin_user, data={"description": "bizhub C450i"})
    with pytest.raises(ValidationError):
        services.oneoff_line_delete(line=stale, user=admin_user)
    invoiced = OneOffLine.objects.get(pk=hardware.pk)
    assert (invoiced.description, invoiced.invoice_document_id) == (
        hardware.description,
        hardware.invoice_document_id,
    )
