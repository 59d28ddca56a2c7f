from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.engine import LineTerms, Segment
from folders import services
from folders.models import RecurringLine, RecurringLineChange
from folders.selectors import recurring_line_end, recurring_line_segments, recurring_line_terms
from tests.catalog.factories import ProductFactory
from tests.folders.factories import FolderFactory, add_recurring

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def line(org, admin_user):
    folder = FolderFactory(organization=org, start_date=dt.date(2026, 1, 1))
    return add_recurring(folder, user=admin_user, quantity="4", unit_price="9.90")


def test_an_unchanged_line_has_one_segment(line):
    assert recurring_line_segments(line) == [
        {"start": dt.date(2026, 1, 1), "quantity": D("4"), "unit_price": D("9.90"), "change_id": ""}
    ]


def test_a_change_mid_term_becomes_a_new_version(line, admin_user):
    change = services.recurring_line_change(
        line=line, user=admin_user, effective_from=dt.date(2026, 3, 15), quantity=D("6"), unit_price=D("9.90")
    )
    line.refresh_from_db()
    assert line.quantity == D("6")  # the line shows the newest version
    segments = recurring_line_segments(line)
    assert [(s["start"], s["quantity"], s["change_id"]) for s in segments] == [
        (dt.date(2026, 1, 1), D("4"), ""),
        (dt.date(2026, 3, 15), D("6"), str(change.pk)),
    ]
    assert change.created_by == admin_user
    assert (change.previous_quantity, change.previous_unit_price) == (D("4"), D("9.90"))


def test_a_backdated_change_only_covers_the_days_until_the_next_version(line, admin_user):
    services.recurring_line_change(
        line=line, user=admin_user, effective_from=dt.date(2026, 5, 1), quantity=D("8"), unit_price=D("9.90")
    )
    services.recurring_line_change(
        line=line, user=admin_user, effective_from=dt.date(2026, 3, 1), quantity=D("5"), unit_price=D("8.90")
    )
    line.refresh_from_db()
    segments = recurring_line_segments(line)
    assert [(s["start"], s["quantity"], s["unit_price"]) for s in segments] == [
        (dt.date(2026, 1, 1), D("4"), D("9.90")),
        (dt.date(2026, 3, 1), D("5"), D("8.90")),
        (dt.date(2026, 5, 1), D("8"), D("9.90")),
    ]
    assert (line.quantity, line.unit_price) == (D("8"), D("9.90"))


def test_two_changes_on_one_day_keep_the_later_one(line, admin_user):
    services.recurring_line_change(
        line=line, user=admin_user, effective_from=dt.date(2026, 4, 1), quantity=D("5"), unit_price=D("9.90")
    )
    later = services.recurring_line_change(
        line=line, user=admin_user, effective_from=dt.date(2026, 4, 1), quantity=D("7"), unit_price=D("9.90")
    )
    segments = recurring_line_segments(line)
    assert len(segments) == 2
    assert segments[-1]["quantity"] == D("7")
    assert segments[-1]["change_id"] == str(later.pk)


def test_segments_build_billing_engine_terms(line, admin_user):
    services.recurring_line_change(
        line=line, user=admin_user, effective_from=dt.date(2026, 2, 10), quantity=D("6"), unit_price=D("9.90")
    )
    line.refresh_from_db()
    terms = recurring_line_terms(line)
    engine_terms = LineTerms(
        cycle=terms["cycle"],
        timing=terms["timing"],
        start=terms["start"],
        end=terms["end"],
        segments=tuple(Segment(**s) for s in terms["segments"]),
        trial_end=terms["trial_end"],
        setup_fee=terms["setup_fee"],
        billing_day=terms["billing_day"],
    )
    assert engine_terms.segment_on(dt.date(2026, 2, 9)).quantity == D("4")
    assert engine_terms.segment_on(dt.date(2026, 2, 10)).quantity == D("6")


@pytest.mark.parametrize(
    ("effective_from", "quantity", "unit_price", "refused"),
    [
        (dt.date(2026, 1, 1), "5", "9.90", {"effective_from"}),  # on or before the start
        (dt.date(2026, 2, 1), "0", "-1", {"quantity", "unit_price"}),
    ],
    ids=["on-or-before-the-start", "negative-price-or-zero-quantity"],
)
def test_it_refuses_a_bad_change(line, admin_user, effective_from, quantity, unit_price, refused):
    with pytest.raises(ValidationError) as exc:
        services.recurring_line_change(
            line=line,
            user=admin_user,
            effective_from=effective_from,
            quantity=D(quantity),
            unit_price=D(unit_price),
        )
    assert set(exc.value.message_dict) == refused
    assert not RecurringLineChange.objects.exists()


def test_editing_an_unbilled_line_before_it_starts_corrects_it_in_place(org, admin_user):
    folder = FolderFactory(organization=org, start_date=dt.date(2030, 1, 1))
    line = add_recurring(folder, user=admin_user, quantity="2", start_date=dt.date(2030, 1, 1))
    services.recurring_line_update(
        line=line, user=admin_user, data={"quantity": D("3")}, effective_from=dt.date(2026, 11, 1)
    )
    line.refresh_from_db()
    assert line.quantity == D("3")
    assert not line.changes.exists()


def test_editing_quantity_of_a_running_line_records_a_version(line, admin_user):
    services.recurring_line_update(
        line=RecurringLine.objects.get(pk=line.pk),
        user=admin_user,
        data={"quantity": D("5")},
        effective_from=dt.date(2026, 6, 1),
    )
    assert line.changes.get().effective_from == dt.date(2026, 6, 1)


def test_a_billed_line_keeps_its_billing_terms(line, admin_user):
    RecurringLine.objects.filter(pk=line.pk).update(billed_through=dt.date(2026, 3, 31))
    line = RecurringLine.objects.get(pk=line.pk)
    with pytest.raises(ValidationError) as exc:
        services.recurring_line_update(line=line, user=admin_user, data={"cycle": 3})
    assert "cycle" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.recurring_line_delete(line=line, user=admin_user)
    services.recurring_line_update(line=line, user=admin_user, data={"end_date": dt.date(2026, 12, 31)})
    assert RecurringLine.objects.get(pk=line.pk).end_date == dt.date(2026, 12, 31)


def test_it_refuses_an_end_before_the_start_and_a_product_with_a_package(org, admin_user, line):
    with pytest.raises(ValidationError) as exc:
        services.recurring_line_update(line=line, user=admin_user, data={"end_date": dt.date(2025, 12, 31)})
    assert "vor dem Beginn" in str(exc.value.message_dict["end_date"])
    from tests.catalog.factories import ServicePackageFactory

    with pytest.raises(ValidationError):
        add_recurring(
            line.folder,
            user=admin_user,
            product=ProductFactory(organization=org),
            service_package=ServicePackageFactory(organization=org),
        )


def test_the_folders_end_caps_the_line(line):
    folder = line.folder
    folder.end_date = dt.date(2026, 8, 31)
    folder.save()
    line = RecurringLine.objects.select_related("folder").get(pk=line.pk)
    assert recurring_line_end(line) == dt.date(2026, 8, 31)
