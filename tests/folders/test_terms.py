from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from folders.terms import (
    current_term_end,
    earliest_cancellation_end,
    end_of_month,
    months_after_clamped,
    notice_deadline,
    renewal_date,
    term_end,
)

relativedelta = pytest.importorskip("dateutil.relativedelta").relativedelta

dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))
FAST = settings(max_examples=200, deadline=None)


# --- months_after_clamped -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 1, 30), 1, date(2026, 2, 28)),
        (date(2026, 1, 29), 1, date(2026, 2, 28)),
        (date(2028, 1, 29), 1, date(2028, 2, 29)),
        (date(2026, 1, 28), 1, date(2026, 2, 28)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),  # 31 -> 30-day month
        (date(2026, 4, 30), 1, date(2026, 5, 30)),  # 30 stays 30 in a 31-day month
        (date(2026, 8, 31), 1, date(2026, 9, 30)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),  # leap day, next year has none
        (date(2028, 2, 29), 48, date(2032, 2, 29)),
        (date(2026, 2, 28), 12, date(2027, 2, 28)),
        (date(2026, 11, 15), 2, date(2027, 1, 15)),  # across the year end
        (date(2026, 12, 31), 2, date(2027, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),  # negative months clamp too
        (date(2028, 3, 31), -1, date(2028, 2, 29)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 1, 31), -2, date(2025, 11, 30)),
        (date(2026, 5, 31), -15, date(2025, 2, 28)),
        (date(2026, 5, 17), 0, date(2026, 5, 17)),
    ],
)
def test_it_adds_calendar_months_clamping_to_month_end(day: date, months: int, expected: date) -> None:
    assert months_after_clamped(day, months) == expected


@FAST
@given(day=dates, months=st.integers(min_value=-120, max_value=120))
def test_it_agrees_with_relativedelta(day: date, months: int) -> None:
    assert months_after_clamped(day, months) == day + relativedelta(months=months)


def test_it_knows_month_ends() -> None:
    assert end_of_month(date(2028, 2, 3)) == date(2028, 2, 29)
    assert end_of_month(date(2026, 2, 28)) == date(2026, 2, 28)
    assert end_of_month(date(2026, 4, 1)) == date(2026, 4, 30)


# --- term_end -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 1), 12, date(2026, 12, 31)),
        (date(2026, 1, 1), 24, date(2027, 12, 31)),
        (date(2026, 3, 1), 12, date(2027, 2, 28)),
        (date(2027, 3, 1), 12, date(2028, 2, 29)),  # ends on a leap day
        (date(2026, 11, 15), 3, date(2027, 2, 14)),  # across the year end
        (date(2026, 1, 15), 1, date(2026, 2, 14)),
        # § 188 (3) BGB: the same-numbered day is missing -> last day of that month.
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 1, 30), 1, date(2026, 2, 28)),
        (date(2028, 1, 30), 1, date(2028, 2, 29)),
        (date(2028, 1, 29), 1, date(2028, 2, 28)),  # 29 Feb exists: the day before it
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 8, 31), 1, date(2026, 9, 30)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2028, 2, 29), 48, date(2032, 2, 28)),
        (date(2026, 5, 31), 24, date(2028, 5, 30)),
    ],
)
def test_it_computes_the_last_day_of_the_minimum_term(start: date, months: int, expected: date) -> None:
    assert term_end(start, months) == expected


def test_it_has_no_term_end_without_a_minimum_term() -> None:
    assert term_end(date(2026, 1, 31), 0) is None


def test_it_refuses_negative_terms() -> None:
    with pytest.raises(ValueError, match="minimum_term_months"):
        term_end(date(2026, 1, 1), -1)


@FAST
@given(start=dates, months=st.integers(min_value=1, max_value=120))
def test_a_term_lasts_at_least_the_calendar_allows_and_never_more(start: date, months: int) -> None:
    end = term_end(start, months)
    assert end is not None
    naive = months_after_clamped(start, months) - timedelta(days=1)
    # Never shorter than "same day N months later, minus one" ...
    assert end >= naive
    # ... and only longer when that day does not exist, up to the month's end.
    assert end == naive or end == end_of_month(months_after_clamped(start, months))
    # A one-month-per-step chain of terms never drifts away from the N-month term.
    if start.day <= 28:
        chained = start
        for _ in range(months):
            step_end = term_end(chained, 1)
            assert step_end is not None
            chained = step_end + timedelta(days=1)
        assert chained - timedelta(days=1) == end


# --- notice_deadline ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("end", "notice", "expected"),
    [
        (date(2026, 3, 31), 3, date(2025, 12, 31)),  # across the year end
        (date(2026, 12, 31), 3, date(2026, 9, 30)),
        (date(2026, 12, 31), 1, date(2026, 11, 30)),
        (date(2027, 2, 28), 1, date(2027, 1, 31)),
        (date(2028, 2, 29), 1, date(2028, 1, 31)),
        (date(2026, 4, 30), 2, date(2026, 2, 28)),
        (date(2028, 4, 30), 2, date(2028, 2, 29)),
        (date(2027, 2, 14), 1, date(2027, 1, 14)),
        (date(2026, 3, 30), 1, date(2026, 2, 27)),  # 31 Mar - 1 month = 28 Feb, minus a day
        (date(2026, 6, 30), 0, date(2026, 6, 30)),  # no notice period: up to the last day
        (date(2027, 1, 31), 12, date(2026, 1, 31)),
    ],
)
def test_it_computes_the_notice_deadline(end: date, notice: int, expected: date) -> None:
    assert notice_deadline(end, notice) == expected


def test_it_refuses_negative_notice() -> None:
    with pytest.raises(ValueError, match="notice_months"):
        notice_deadline(date(2026, 3, 31), -1)


@FAST
@given(
    start=dates, months=st.integers(min_value=1, max_value=60), notice=st.integers(min_value=0, max_value=12)
)
def test_the_deadline_leaves_the_full_notice_period(start: date, months: int, notice: int) -> None:
    end = term_end(start, months)
    assert end is not None
    deadline = notice_deadline(end, notice)
    assert deadline <= end
    # Notice given on the deadline day still leaves at least `notice` months.
    assert months_after_clamped(deadline + timedelta(days=1), notice) <= end + timedelta(days=1)


# --- current_term_end and renewal_date ---------------------------------------------------


def test_without_renewal_the_minimum_term_is_the_only_term() -> None:
    start = date(2026, 1, 1)
    assert current_term_end(start, 24, None, False, date(2026, 6, 1)) == date(2027, 12, 31)
    assert current_term_end(start, 24, None, False, date(2030, 6, 1)) == date(2027, 12, 31)
    assert renewal_date(start, 24, None, False, date(2026, 6, 1)) is None


def test_without_minimum_term_there_is_no_term_end() -> None:
    assert current_term_end(date(2026, 1, 1), 0, None, True, date(2026, 6, 1)) is None
    assert renewal_date(date(2026, 1, 1), 0, None, True, date(2026, 6, 1)) is None


def test_it_renews_by_twelve_months_after_a_long_minimum_term() -> None:
    start = date(2026, 1, 1)
    assert current_term_end(start, 24, None, True, date(2025, 6, 1)) == date(2027, 12, 31)  # before start
    assert current_term_end(start, 24, None, True, date(2027, 12, 31)) == date(2027, 12, 31)
    assert current_term_end(start, 24, None, True, date(2028, 1, 1)) == date(2028, 12, 31)
    assert current_term_end(start, 24, None, True, date(2030, 7, 4)) == date(2030, 12, 31)
    assert renewal_date(start, 24, None, True, date(2027, 3, 1)) == date(2028, 1, 1)


def test_a_short_minimum_term_renews_by_its_own_length() -> None:
    start = date(2026, 1, 1)
    assert current_term_end(start, 6, None, True, date(2026, 7, 1)) == date(2026, 12, 31)
    assert current_term_end(start, 6, None, True, date(2027, 1, 1)) == date(2027, 6, 30)


def test_it_uses_an_explicit_renewal_period() -> None:
    start = date(2026, 1, 1)
    assert current_term_end(start, 12, 1, True, date(2027, 1, 15)) == date(2027, 1, 31)
    assert current_term_end(start, 12, 1, True, date(2027, 3, 1)) == date(2027, 3, 31)


def test_renewals_of_a_month_end_start_follow_month_ends() -> None:
    # 31 Jan + 1 month ends 28 Feb; each renewal starts on the 1st and runs a full month.
    start = date(2026, 1, 31)
    assert current_term_end(start, 1, 1, True, date(2026, 2, 28)) == date(2026, 2, 28)
    assert current_term_end(start, 1, 1, True, date(2026, 3, 1)) == date(2026, 3, 31)
    assert current_term_end(start, 1, 1, True, date(2026, 4, 30)) == date(2026, 4, 30)


def test_a_leap_day_start_renews_yearly_without_drift() -> None:
    start = date(2028, 2, 29)
    assert current_term_end(start, 12, None, True, date(2029, 1, 1)) == date(2029, 2, 28)
    assert current_term_end(start, 12, None, True, date(2029, 3, 1)) == date(2030, 2, 28)
    assert current_term_end(start, 12, None, True, date(2031, 12, 1)) == date(2032, 2, 29)


def test_it_refuses_a_non_positive_renewal_period() -> None:
    with pytest.raises(ValueError, match="renewal_months"):
        current_term_end(date(2026, 1, 1), 12, 0, True, date(2027, 6, 1))


@FAST
@given(
    start=dates,
    minimum=st.integers(min_value=1, max_value=36),
    renewal=st.none() | st.integers(min_value=1, max_value=24),
    offset=st.integers(min_value=-400, max_value=4000),
)
def test_the_term_in_force_contains_today(
    start: date, minimum: int, renewal: int | None, offset: int
) -> None:
    today = start + timedelta(days=offset)
    end = current_term_end(start, minimum, renewal, True, today)
    assert end is not None
    assert end >= today
    assert end >= term_end(start, minimum)  # type: ignore[operator]
    assert current_term_end(start, minimum, renewal, True, end) == end
    assert current_term_end(start, minimum, renewal, True, end + timedelta(days=1)) != end
    # The term in force began on or before today: yesterday was in it, or ended the one before.
    yesterday = current_term_end(start, minimum, renewal, True, today - timedelta(days=1))
    assert yesterday in (end, today - timedelta(days=1))
    assert renewal_date(start, minimum, renewal, True, today) == end + timedelta(days=1)


# --- earliest_cancellation_end --------------------------------------------------------


def test_without_minimum_term_it_ends_at_the_month_end_after_the_notice_period() -> None:
    assert earliest_cancellation_end(date(2026, 1, 1), 0, 1, False, None, date(2026, 3, 15)) == date(
        2026, 4, 30
    )
    assert earliest_cancellation_end(date(2026, 1, 1), 0, 0, False, None, date(2026, 3, 15)) == date(
        2026, 3, 31
    )
    assert earliest_cancellation_end(date(2026, 1, 1), 0, 3, True, None, date(2026, 11, 30)) == date(
        2027, 2, 28
    )
    assert earliest_cancellation_end(date(2026, 1, 1), 0, 1, False, None, date(2028, 1, 31)) == date(
        2028, 2, 29
    )


def test_notice_in_time_ends_the_first_term() -> None:
    start = date(2026, 4, 1)  # 24 months -> ends 31 Mar 2028, deadline 31 Dec 2027
    assert earliest_cancellation_end(start, 24, 3, True, None, date(2026, 4, 1)) == date(2028, 3, 31)
    assert earliest_cancellation_end(start, 24, 3, True, None, date(2027, 12, 31)) == date(2028, 3, 31)


def test_late_notice_ends_the_renewed_term() -> None:
    start = date(2026, 4, 1)
    assert earliest_cancellation_end(start, 24, 3, True, None, date(2028, 1, 1)) == date(2029, 3, 31)
    assert earliest_cancellation_end(start, 24, 3, True, None, date(2029, 1, 1)) == date(2030, 3, 31)


def test_late_notice_without_renewal_ends_at_month_end_after_the_notice_period() -> None:
    start = date(2026, 4, 1)
    # Deadline 31 Dec 2027 missed by a day: 1 Jan + 3 months -> end of April.
    assert earliest_cancellation_end(start, 24, 3, False, None, date(2028, 1, 1)) == date(2028, 4, 30)
    assert earliest_cancellation_end(start, 24, 3, False, None, date(2029, 6, 10)) == date(2029, 9, 30)


def test_notice_before_the_start_ends_the_first_term() -> None:
    assert earliest_cancellation_end(date(2026, 4, 1), 12, 1, True, None, date(2026, 1, 1)) == date(
        2027, 3, 31
    )


def test_notice_across_the_year_end_on_a_leap_february_term() -> None:
    start = date(2027, 3, 1)  # 12 months -> ends 29 Feb 2028, one month notice -> 31 Jan 2028
    assert earliest_cancellation_end(start, 12, 1, True, None, date(2028, 1, 31)) == date(2028, 2, 29)
    assert earliest_cancellation_end(start, 12, 1, True, None, date(2028, 2, 1)) == date(2029, 2, 28)


@FAST
@given(
    start=dates,
    minimum=st.integers(min_value=0, max_value=36),
    notice=st.integers(min_value=0, max_value=6),
    auto_renew=st.booleans(),
    renewal=st.none() | st.integers(min_value=1, max_value=24),
    offset=st.integers(min_value=-200, max_value=3000),
)
def test_cancellation_always_respects_notice_and_minimum_term(
    start: date, minimum: int, notice: int, auto_renew: bool, renewal: int | None, offset: int
) -> None:
    given_on = start + timedelta(days=offset)
    end = earliest_cancellation_end(start, minimum, notice, auto_renew, renewal, given_on)
    # The customer always gets the full notice period, and the notice was in time for that end ...
    assert months_after_clamped(given_on, notice) <= end + timedelta(days=1)
    assert notice_deadline(end, notice) >= given_on
    # ... and never leaves before the minimum term is over.
    first = term_end(start, minimum)
    if first is not None:
        assert end >= first
        if auto_renew:
            # With renewal the contract ends at the end of a term, the first one notice reached.
            assert current_term_end(start, minimum, renewal, True, end) == end
            term = first
            while term < end:  # every earlier term's deadline was missed
                assert notice_deadline(term, notice) < given_on
                term = current_term_end(start, minimum, renewal, True, term + timedelta(days=1))
                assert term is not None
