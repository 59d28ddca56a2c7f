from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing.engine import (
    BilledCharge,
    BillingConflict,
    Charge,
    Cycle,
    LineTerms,
    Segment,
    Timing,
    days_in,
    due_charges,
    month_start,
    period_bounds,
    periods_between,
    prorate,
)

D = Decimal


def line(
    *,
    start: date,
    price: str,
    quantity: str = "1",
    cycle: Cycle = Cycle.MONTHLY,
    timing: Timing = Timing.ADVANCE,
    end: date | None = None,
    changes: tuple[Segment, ...] = (),
    trial_end: date | None = None,
    setup_fee: str = "0",
    billing_day: int = 1,
) -> LineTerms:
    return LineTerms(
        cycle=cycle,
        timing=timing,
        start=start,
        end=end,
        segments=(Segment(start=start, quantity=D(quantity), unit_price=D(price)), *changes),
        trial_end=trial_end,
        setup_fee=D(setup_fee),
        billing_day=billing_day,
    )


def run(terms: LineTerms, run_month: date, billed: list[BilledCharge]) -> list[Charge]:
    """One billing run that stores its charges, as the ORM layer does."""
    charges = due_charges(terms, run_month=run_month, billed=billed)
    billed.extend(charge.to_billed() for charge in charges)
    return charges


def summary(charges: list[Charge]) -> list[tuple[date, str, date, date, Decimal]]:
    return [(c.period_start, c.kind, c.service_start, c.service_end, c.amount) for c in charges]


# --- helpers --------------------------------------------------------------------------


def test_it_counts_days_inclusively() -> None:
    assert days_in(date(2026, 11, 15), date(2026, 11, 30)) == 16
    assert days_in(date(2026, 11, 15), date(2026, 11, 15)) == 1
    assert days_in(date(2026, 11, 15), date(2026, 11, 14)) == 0
    assert month_start(date(2026, 11, 15)) == date(2026, 11, 1)


def test_it_rounds_half_up_per_charge() -> None:
    assert prorate(D("1"), D("0.05"), 1, 2) == D("0.03")  # 0.025 -> 0.03
    assert prorate(D("-1"), D("0.05"), 1, 2) == D("-0.03")  # credits mirror charges
    assert prorate(D("1"), D("1200"), 306, 365) == D("1006.03")


@pytest.mark.parametrize(
    ("cycle", "billing_day", "day", "expected"),
    [
        (Cycle.MONTHLY, 1, date(2026, 11, 15), (date(2026, 11, 1), date(2026, 11, 30))),
        (Cycle.MONTHLY, 1, date(2028, 2, 29), (date(2028, 2, 1), date(2028, 2, 29))),
        (Cycle.MONTHLY, 15, date(2026, 3, 10), (date(2026, 2, 15), date(2026, 3, 14))),
        (Cycle.MONTHLY, 15, date(2026, 3, 15), (date(2026, 3, 15), date(2026, 4, 14))),
        (Cycle.MONTHLY, 15, date(2026, 1, 14), (date(2025, 12, 15), date(2026, 1, 14))),
        (Cycle.QUARTERLY, 1, date(2026, 5, 20), (date(2026, 4, 1), date(2026, 6, 30))),
        (Cycle.QUARTERLY, 1, date(2026, 12, 31), (date(2026, 10, 1), date(2026, 12, 31))),
        (Cycle.QUARTERLY, 15, date(2026, 1, 10), (date(2025, 10, 15), date(2026, 1, 14))),
        (Cycle.QUARTERLY, 15, date(2026, 4, 14), (date(2026, 1, 15), date(2026, 4, 14))),
        (Cycle.QUARTERLY, 15, date(2026, 4, 15), (date(2026, 4, 15), date(2026, 7, 14))),
        (Cycle.YEARLY, 1, date(2026, 7, 1), (date(2026, 1, 1), date(2026, 12, 31))),
        (Cycle.YEARLY, 28, date(2026, 1, 27), (date(2025, 1, 28), date(2026, 1, 27))),
        (Cycle.YEARLY, 28, date(2026, 12, 31), (date(2026, 1, 28), date(2027, 1, 27))),
    ],
)
def test_periods_are_aligned_to_the_calendar(
    cycle: Cycle, billing_day: int, day: date, expected: tuple[date, date]
) -> None:
    assert period_bounds(cycle, billing_day, day) == expected


def test_it_lists_the_periods_overlapping_a_range() -> None:
    assert periods_between(Cycle.QUARTERLY, 1, date(2026, 2, 10), date(2026, 7, 1)) == [
        (date(2026, 1, 1), date(2026, 3, 31)),
        (date(2026, 4, 1), date(2026, 6, 30)),
        (date(2026, 7, 1), date(2026, 9, 30)),
    ]


def test_it_refuses_a_billing_day_after_the_28th() -> None:
    with pytest.raises(ValueError, match="billing_day"):
        period_bounds(Cycle.MONTHLY, 29, date(2026, 1, 1))


# --- first charges ----------------------------------------------------------------------


def test_it_prorates_the_first_month_in_advance() -> None:
    terms = line(start=date(2026, 11, 15), price="30.00")
    billed: list[BilledCharge] = []

    assert run(terms, date(2026, 10, 1), billed) == []  # not started yet
    [first] = run(terms, date(2026, 11, 1), billed)
    assert (first.kind, first.service_start, first.service_end) == (
        "period",
        date(2026, 11, 15),
        date(2026, 11, 30),
    )
    assert (first.quantity, first.unit_price, first.amount) == (D("1"), D("30.00"), D("16.00"))
    assert first.description == "prorated"

    [december] = run(terms, date(2026, 12, 1), billed)
    assert (december.period_start, december.amount, december.description) == (
        date(2026, 12, 1),
        D("30.00"),
        "full",
    )


def test_running_the_same_month_again_charges_nothing() -> None:
    terms = line(start=date(2026, 11, 15), price="30.00", setup_fee="49.00")
    billed: list[BilledCharge] = []
    assert len(run(terms, date(2026, 11, 1), billed)) == 2
    assert run(terms, date(2026, 11, 1), billed) == []


def test_quarterly_arrears_bills_a_quarter_after_it_ended() -> None:
    terms = line(
        start=date(2026, 2, 1), price="90.00", quantity="2", cycle=Cycle.QUARTERLY, timing=Timing.ARREARS
    )
    billed: list[BilledCharge] = []

    assert run(terms, date(2026, 3, 1), billed) == []
    # Q1 2026 has 90 days, 59 of them in service: 2 x 90.00 x 59 / 90.
    assert summary(run(terms, date(2026, 4, 1), billed)) == [
        (date(2026, 1, 1), "period", date(2026, 2, 1), date(2026, 3, 31), D("118.00"))
    ]
    assert run(terms, date(2026, 5, 1), billed) == []
    assert run(terms, date(2026, 6, 1), billed) == []
    assert summary(run(terms, date(2026, 7, 1), billed)) == [
        (date(2026, 4, 1), "period", date(2026, 4, 1), date(2026, 6, 30), D("180.00"))
    ]


def test_arrears_bills_the_last_partial_period_right_after_the_end() -> None:
    terms = line(
        start=date(2026, 1, 1),
        end=date(2027, 1, 10),
        price="92.00",
        cycle=Cycle.QUARTERLY,
        timing=Timing.ARREARS,
    )
    billed: list[BilledCharge] = []
    run(terms, date(2027, 1, 1), billed)
    # Q1 2027 has 90 days; 10 used: 92.00 x 10 / 90 = 10.22, due in the February run.
    assert summary(run(terms, date(2027, 2, 1), billed)) == [
        (date(2027, 1, 1), "period", date(2027, 1, 1), date(2027, 1, 10), D("10.22"))
    ]
    assert run(terms, date(2027, 5, 1), billed) == []


def test_yearly_advance_with_setup_fee() -> None:
    terms = line(start=date(2026, 3, 1), price="1200.00", cycle=Cycle.YEARLY, setup_fee="99.00")
    billed: list[BilledCharge] = []

    charges = run(terms, date(2026, 3, 1), billed)
    # 306 of 365 days: 1200.00 x 306 / 365 = 1006.027... -> 1006.03.
    assert summary(charges) == [
        (date(2026, 1, 1), "period", date(2026, 3, 1), date(2026, 12, 31), D("1006.03")),
        (date(2026, 1, 1), "setup", date(2026, 3, 1), date(2026, 3, 1), D("99.00")),
    ]
    assert (charges[1].quantity, charges[1].unit_price, charges[1].description) == (
        D("1"),
        D("99.00"),
        "setup",
    )
    assert run(terms, date(2026, 12, 1), billed) == []
    assert summary(run(terms, date(2027, 1, 1), billed)) == [
        (date(2027, 1, 1), "period", date(2027, 1, 1), date(2027, 12, 31), D("1200.00"))
    ]


def test_trial_days_are_free_and_the_rest_of_the_month_is_prorated() -> None:
    terms = line(start=date(2026, 3, 1), trial_end=date(2026, 3, 14), price="31.00", setup_fee="10.00")
    billed: list[BilledCharge] = []
    charges = run(terms, date(2026, 3, 1), billed)
    assert summary(charges) == [
        (date(2026, 3, 1), "period", date(2026, 3, 15), date(2026, 3, 31), D("17.00")),
        (date(2026, 3, 1), "setup", date(2026, 3, 1), date(2026, 3, 1), D("10.00")),
    ]
    assert charges[0].description == "trial"


def test_a_trial_over_a_whole_period_defers_the_first_charge_and_the_setup() -> None:
    terms = line(start=date(2026, 3, 1), trial_end=date(2026, 4, 10), price="30.00", setup_fee="10.00")
    billed: list[BilledCharge] = []
    assert run(terms, date(2026, 3, 1), billed) == []
    assert summary(run(terms, date(2026, 4, 1), billed)) == [
        (date(2026, 4, 1), "period", date(2026, 4, 11), date(2026, 4, 30), D("20.00")),
        (date(2026, 4, 1), "setup", date(2026, 3, 1), date(2026, 3, 1), D("10.00")),
    ]


@pytest.mark.parametrize(
    ("start", "price", "amount"),
    [
        (date(2028, 2, 15), "29.00", D("15.00")),  # leap year: 15 of 29 days
        (date(2027, 2, 15), "28.00", D("14.00")),  # 14 of 28 days
        (date(2028, 2, 29), "29.00", D("1.00")),
    ],
)
def test_february_is_prorated_by_its_own_length(start: date, price: str, amount: Decimal) -> None:
    [charge] = due_charges(line(start=start, price=price), run_month=month_start(start), billed=[])
    assert charge.amount == amount
    assert charge.period_end == date(start.year, 2, 29 if start.year % 4 == 0 else 28)


def test_billing_day_15_bills_from_the_15th_to_the_14th() -> None:
    terms = line(start=date(2026, 12, 1), price="30.00", billing_day=15)
    billed: list[BilledCharge] = []
    assert run(terms, date(2026, 11, 1), billed) == []  # the period began, the service did not
    # 15 Nov - 14 Dec has 30 days, 14 in service; the next period starts 15 Dec.
    assert summary(run(terms, date(2026, 12, 1), billed)) == [
        (date(2026, 11, 15), "period", date(2026, 12, 1), date(2026, 12, 14), D("14.00")),
        (date(2026, 12, 15), "period", date(2026, 12, 15), date(2027, 1, 14), D("30.00")),
    ]
    assert summary(run(terms, date(2027, 1, 1), billed)) == [
        (date(2027, 1, 15), "period", date(2027, 1, 15), date(2027, 2, 14), D("30.00"))
    ]


def test_skipped_months_are_caught_up() -> None:
    terms = line(start=date(2026, 1, 1), price="10.00")
    billed: list[BilledCharge] = []
    run(terms, date(2026, 1, 1), billed)
    caught_up = run(terms, date(2026, 4, 1), billed)  # February and March were on hold
    assert [(c.period_start, c.amount) for c in caught_up] == [
        (date(2026, 2, 1), D("10.00")),
        (date(2026, 3, 1), D("10.00")),
        (date(2026, 4, 1), D("10.00")),
    ]


# --- changes ----------------------------------------------------------------------------


def test_a_price_change_in_an_already_billed_month_is_credited_and_recharged() -> None:
    original = line(start=date(2026, 1, 1), price="30.00")
    billed: list[BilledCharge] = []
    run(original, date(2026, 11, 1), billed)  # catch-up to November, all at 30.00

    changed = line(
        start=date(2026, 1, 1),
        price="30.00",
        changes=(Segment(date(2026, 11, 10), D("1"), D("60.00"), "chg-1"),),
    )
    charges = run(changed, date(2026, 12, 1), billed)
    # 21 of 30 November days from the 10th: -30.00 x 21/30 and +60.00 x 21/30.
    assert summary(charges) == [
        (date(2026, 11, 1), "change-credit:chg-1", date(2026, 11, 10), date(2026, 11, 30), D("-21.00")),
        (date(2026, 11, 1), "change-charge:chg-1", date(2026, 11, 10), date(2026, 11, 30), D("42.00")),
        (date(2026, 12, 1), "period", date(2026, 12, 1), date(2026, 12, 31), D("60.00")),
    ]
    assert (charges[0].quantity, charges[0].unit_price, charges[0].description) == (
        D("-1"),
        D("30.00"),
        "change-credit",
    )
    assert run(changed, date(2026, 12, 1), billed) == []


def test_a_known_change_splits_a_new_period_into_pieces() -> None:
    terms = line(
        start=date(2026, 11, 1),
        price="30.00",
        changes=(Segment(date(2026, 11, 21), D("3"), D("30.00"), "chg-2"),),
    )
    assert summary(due_charges(terms, run_month=date(2026, 11, 1), billed=[])) == [
        (date(2026, 11, 1), "period", date(2026, 11, 1), date(2026, 11, 20), D("20.00")),
        (date(2026, 11, 1), "change-charge:chg-2", date(2026, 11, 21), date(2026, 11, 30), D("30.00")),
    ]


def test_one_run_settles_several_changes_in_one_billed_period() -> None:
    billed: list[BilledCharge] = []
    run(line(start=date(2026, 4, 1), price="30.00"), date(2026, 4, 1), billed)
    terms = line(
        start=date(2026, 4, 1),
        price="30.00",
        changes=(
            Segment(date(2026, 4, 11), D("2"), D("30.00"), "a"),
            Segment(date(2026, 4, 21), D("2"), D("45.00"), "b"),
        ),
    )
    # Each change credits what was billed for its own days (the original 30.00).
    assert summary(run(terms, date(2026, 4, 1), billed)) == [
        (date(2026, 4, 1), "change-credit:a", date(2026, 4, 11), date(2026, 4, 20), D("-10.00")),
        (date(2026, 4, 1), "change-charge:a", date(2026, 4, 11), date(2026, 4, 20), D("20.00")),
        (date(2026, 4, 1), "change-credit:b", date(2026, 4, 21), date(2026, 4, 30), D("-10.00")),
        (date(2026, 4, 1), "change-charge:b", date(2026, 4, 21), date(2026, 4, 30), D("30.00")),
    ]


def test_a_later_change_credits_the_version_billed_by_an_earlier_one() -> None:
    billed: list[BilledCharge] = []
    first_change = (Segment(date(2026, 4, 11), D("2"), D("30.00"), "a"),)
    run(line(start=date(2026, 4, 1), price="30.00", changes=first_change), date(2026, 4, 1), billed)
    terms = line(
        start=date(2026, 4, 1),
        price="30.00",
        changes=(*first_change, Segment(date(2026, 4, 26), D("1"), D("30.00"), "b")),
    )
    assert summary(run(terms, date(2026, 5, 1), billed))[:2] == [
        (date(2026, 4, 1), "change-credit:b", date(2026, 4, 26), date(2026, 4, 30), D("-10.00")),
        (date(2026, 4, 1), "change-charge:b", date(2026, 4, 26), date(2026, 4, 30), D("5.00")),
    ]


def test_a_backdated_change_covering_billed_periods_adjusts_each_of_them() -> None:
    billed: list[BilledCharge] = []
    run(line(start=date(2026, 1, 1), price="30.00", cycle=Cycle.MONTHLY), date(2026, 5, 1), billed)
    terms = line(
        start=date(2026, 1, 1),
        price="30.00",
        changes=(Segment(date(2026, 4, 1), D("1"), D("20.00"), "down"),),
    )
    assert [(c.period_start, c.kind, c.amount) for c in run(terms, date(2026, 5, 1), billed)] == [
        (date(2026, 4, 1), "change-credit:down", D("-30.00")),
        (date(2026, 4, 1), "change-charge:down", D("20.00")),
        (date(2026, 5, 1), "change-credit:down", D("-30.00")),
        (date(2026, 5, 1), "change-charge:down", D("20.00")),
    ]


def test_a_paused_quantity_is_credited_without_a_new_charge_amount() -> None:
    billed: list[BilledCharge] = []
    run(line(start=date(2026, 6, 1), price="30.00"), date(2026, 6, 1), billed)
    terms = line(
        start=date(2026, 6, 1), price="30.00", changes=(Segment(date(2026, 6, 16), D("0"), D("30.00"), "p"),)
    )
    assert [(c.kind, c.amount) for c in run(terms, date(2026, 6, 1), billed)] == [
        ("change-credit:p", D("-15.00")),
        ("change-charge:p", D("0.00")),
    ]
    assert run(terms, date(2026, 7, 1), billed)[0].amount == D("0.00")


# --- ends -------------------------------------------------------------------------------


def test_a_cancellation_inside_a_billed_month_credits_the_unused_days() -> None:
    billed: list[BilledCharge] = []
    run(line(start=date(2026, 1, 1), price="30.00"), date(2026, 11, 1), billed)
    ended = line(start=date(2026, 1, 1), price="30.00", end=date(2026, 11, 20))
    charges = run(ended, date(2026, 12, 1), billed)
    assert summary(charges) == [
        (date(2026, 11, 1), "end-credit", date(2026, 11, 21), date(2026, 11, 30), D("-10.00"))
    ]
    assert charges[0].description == "end-credit"
    assert run(ended, date(2027, 1, 1), billed) == []


def test_a_backdated_cancellation_credits_whole_billed_periods() -> None:
    billed: list[BilledCharge] = []
    run(line(start=date(2026, 1, 1), price="120.00", cycle=Cycle.QUARTERLY), date(2026, 4, 1), billed)
    ended = line(start=date(2026, 1, 1), price="120.00", cycle=Cycle.QUARTERLY, end=date(2026, 3, 31))
    assert summary(run(ended, date(2026, 5, 1), billed)) == [
        (date(2026, 4, 1), "end-credit", date(2026, 4, 1), date(2026, 6, 30), D("-120.00"))
    ]


def test_an_end_after_several_billed_versions_credits_each_version() -> None:
    change = (Segment(date(2026, 4, 21), D("2"), D("30.00"), "up"),)
    billed: list[BilledCharge] = []
    run(line(start=date(2026, 4, 1), price="30.00", changes=change), date(2026, 4, 1), billed)
    ended = line(start=date(2026, 4, 1), price="30.00", changes=change, end=date(2026, 4, 15))
    assert summary(run(ended, date(2026, 5, 1), billed)) == [
        (date(2026, 4, 1), "end-credit", date(2026, 4, 16), date(2026, 4, 20), D("-5.00")),
        (date(2026, 4, 1), "end-credit:up", date(2026, 4, 21), date(2026, 4, 30), D("-20.00")),
    ]


# --- refusals ---------------------------------------------------------------------------


def test_it_refuses_what_it_cannot_settle_instead_of_guessing() -> None:
    billed: list[BilledCharge] = []
    run(line(start=date(2026, 1, 1), price="30.00"), date(2026, 1, 1), billed)
    longer_trial = line(start=date(2026, 1, 1), price="30.00", trial_end=date(2026, 1, 10))
    with pytest.raises(BillingConflict, match="manual correction"):
        due_charges(longer_trial, run_month=date(2026, 2, 1), billed=billed)


def test_it_refuses_billed_periods_off_the_line_grid() -> None:
    billed: list[BilledCharge] = []
    run(line(start=date(2026, 1, 1), price="30.00"), date(2026, 1, 1), billed)
    with pytest.raises(BillingConflict, match="not a period start"):
        due_charges(
            line(start=date(2026, 1, 1), price="30.00", billing_day=15),
            run_month=date(2026, 2, 1),
            billed=billed,
        )


def test_it_wants_the_first_day_of_the_run_month() -> None:
    with pytest.raises(ValueError, match="first day"):
        due_charges(line(start=date(2026, 1, 1), price="1"), run_month=date(2026, 1, 15), billed=[])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"segments": ()}, "at least one segment"),
        ({"segments": (Segment(date(2026, 1, 2), D("1"), D("1")),)}, "in force on the line's start"),
        (
            {
                "segments": (
                    Segment(date(2026, 1, 1), D("1"), D("1")),
                    Segment(date(2026, 2, 1), D("1"), D("2")),
                )
            },
            "change_id",
        ),
        (
            {
                "segments": (
                    Segment(date(2026, 1, 1), D("1"), D("1")),
                    Segment(date(2026, 3, 1), D("1"), D("2"), "x"),
                    Segment(date(2026, 2, 1), D("1"), D("3"), "y"),
                )
            },
            "sorted",
        ),
        ({"billing_day": 29}, "billing_day"),
    ],
)
def test_it_refuses_inconsistent_terms(kwargs: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "cycle": Cycle.MONTHLY,
        "timing": Timing.ADVANCE,
        "start": date(2026, 1, 1),
        "end": None,
        "segments": (Segment(date(2026, 1, 1), D("1"), D("1")),),
    }
    with pytest.raises(ValueError, match=message):
        LineTerms(**(values | kwargs))  # type: ignore[arg-type]


def test_it_refuses_floats_for_money() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        LineTerms(
            cycle=Cycle.MONTHLY,
            timing=Timing.ADVANCE,
            start=date(2026, 1, 1),
            end=None,
            segments=(Segment(date(2026, 1, 1), D("1"), 9.99),),  # type: ignore[arg-type]
        )
