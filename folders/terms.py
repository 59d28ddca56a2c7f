"""Contract term arithmetic: minimum terms, notice deadlines, automatic renewals.

Pure date functions, no ORM, so the month-end edge cases can be tested exhaustively.

Month arithmetic follows §§ 187, 188 BGB, which is how a German customer (and court)
reads "24 Monate Mindestlaufzeit" or "3 Monate Kündigungsfrist":

* A term that starts on a day runs to the day *before* the same-numbered day N months
  later (1 Mar + 12 months ends 28/29 Feb of the next year).
* If that same-numbered day does not exist in the last month, the term ends on the last
  day of that month (§ 188 (3) BGB): 31 Jan + 1 month ends 28/29 Feb, not 27/28 Feb,
  so a customer never gets a "month" that is shorter than the calendar allows.
* A renewal term starts on the day after the previous term ended and is counted from
  there, so terms never overlap and never leave a gap.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)

# Renewals of long B2B contracts are usually capped at one year; shorter contracts renew
# by their own length (a 6-month contract renews by 6 months).
DEFAULT_MAX_RENEWAL_MONTHS = 12


def months_after_clamped(d: date, months: int) -> date:
    """Calendar-month addition; the day is clamped to the end of the target month.

    31 Jan + 1 month = 28 Feb (29 Feb in leap years); 31 Mar - 1 month = 28/29 Feb.
    For stepping between month starts (billing months, calendars) use
    ``organizations.months.first_of_month_after``.
    """
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(d.day, last_day))


def end_of_month(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _day_after_term(start: date, months: int) -> date:
    """First day after a term of `months` months beginning on `start` (§ 188 BGB)."""
    same_day = months_after_clamped(start, months)
    if same_day.day != start.day:
        # The same-numbered day does not exist (e.g. 31 Apr): the term ends on the
        # month's last day, so the next one begins on the 1st of the following month.
        return same_day + ONE_DAY
    return same_day


def _check_months(name: str, months: int) -> None:
    if months < 0:
        raise ValueError(f"{name} must not be negative, got {months}")


def term_end(start: date, minimum_term_months: int) -> date | None:
    """Last day (inclusive) of a minimum term beginning on `start`; None without one.

    1 Jan 2026 + 12 months -> 31 Dec 2026; 31 Jan 2026 + 1 month -> 28 Feb 2026.
    """
    _check_months("minimum_term_months", minimum_term_months)
    if minimum_term_months == 0:
        return None
    return _day_after_term(start, minimum_term_months) - ONE_DAY


def notice_deadline(term_end: date, notice_months: int) -> date:
    """Last day on which notice can be given so that the contract ends on `term_end`.

    Rule: deadline = months_after_clamped(term_end + 1 day, -notice_months) - 1 day. Counting back
    from the day after the term end keeps month ends aligned: term end 31 Mar with three
    months' notice -> 31 Dec; term end 28 Feb with one month -> 31 Jan. Without a notice
    period notice can be given up to the last day of the term.
    """
    _check_months("notice_months", notice_months)
    return months_after_clamped(term_end + ONE_DAY, -notice_months) - ONE_DAY


def _renewal_months(minimum_term_months: int, renewal_months: int | None) -> int:
    if renewal_months is None:
        return min(minimum_term_months, DEFAULT_MAX_RENEWAL_MONTHS)
    if renewal_months <= 0:
        raise ValueError(f"renewal_months must be positive, got {renewal_months}")
    return renewal_months


def _next_term_end(previous_term_end: date, renewal_months: int) -> date:
    end = term_end(previous_term_end + ONE_DAY, renewal_months)
    assert end is not None  # renewal_months is positive here
    return end


def current_term_end(
    start: date,
    minimum_term_months: int,
    renewal_months: int | None,
    auto_renew: bool,
    today: date,
) -> date | None:
    """End of the contract term in force on `today`; None without a minimum term.

    With automatic renewal every term is followed by another of `renewal_months`
    (default: the minimum term, at most 12 months) unless notice was given; this returns
    the end of the term that contains `today` (before the start: the first term). Whether
    notice was given is not this function's business - see `earliest_cancellation_end`.
    Without automatic renewal the minimum term is the only fixed term, so its end is
    returned even after it has passed; the caller compares it with today.
    """
    end = term_end(start, minimum_term_months)
    if end is None or not auto_renew:
        return end
    months = _renewal_months(minimum_term_months, renewal_months)
    while end < today:
        end = _next_term_end(end, months)
    return end


def renewal_date(
    start: date,
    minimum_term_months: int,
    renewal_months: int | None,
    auto_renew: bool,
    today: date,
) -> date | None:
    """First day of the renewal term that follows the term in force on `today`.

    None when the contract does not renew automatically or has no minimum term.
    """
    if not auto_renew:
        return None
    end = current_term_end(start, minimum_term_months, renewal_months, auto_renew, today)
    return None if end is None else end + ONE_DAY


def earliest_cancellation_end(
    start: date,
    minimum_term_months: int,
    notice_months: int,
    auto_renew: bool,
    renewal_months: int | None,
    notice_given_on: date,
) -> date:
    """Last day of the contract if notice is given on `notice_given_on`.

    * Without a minimum term: the end of the month in which the notice period expires
      (notice on 15 Mar with one month's notice -> 30 Apr).
    * With a minimum term: the end of the first term whose notice deadline is on or
      after the notice date.
    * Missed deadline without automatic renewal: the contract runs on open-ended after
      the minimum term ("danach monatlich kündbar"), so it ends at the end of the month
      in which the notice period expires, but never before the minimum term ends.
    """
    _check_months("notice_months", notice_months)
    open_ended_end = end_of_month(months_after_clamped(notice_given_on, notice_months))
    end = term_end(start, minimum_term_months)
    if end is None:
        return open_ended_end
    months = _renewal_months(minimum_term_months, renewal_months) if auto_renew else 0
    while notice_deadline(end, notice_months) < notice_given_on:
        if not auto_renew:
            return max(end, open_ended_end)
        end = _next_term_end(end, months)
    return end
