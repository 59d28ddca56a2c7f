"""Collection dates: TARGET2 business days, lead time and pre-notification.

A SEPA direct debit settles on a TARGET2 business day only (no weekends, New Year,
Good Friday, Easter Monday, 1 May, 25 and 26 December); the bank needs the file a number
of business days ahead (lead time), and the debtor must have been told amount and date
(the pre-notification, here the invoice) a number of calendar days before.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=32)
def _target2_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.financial_holidays("XECB", years=year).keys())


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _target2_holidays(day.year)


def next_business_day(day: dt.date) -> dt.date:
    """``day`` itself when it is a business day, otherwise the next one."""
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def add_business_days(day: dt.date, count: int) -> dt.date:
    for _ in range(count):
        day = next_business_day(day + dt.timedelta(days=1))
    return day


def earliest_collection_date(*, today: dt.date, lead_time_days: int) -> dt.date:
    """The first business day that is at least ``lead_time_days`` business days after today."""
    return add_business_days(today, max(lead_time_days, 1))


def prenotified_from(*, issue_date: dt.date, due_date: dt.date | None, prenotification_days: int) -> dt.date:
    """The first day an invoice may be collected: its pre-notification (the invoice) went
    out ``prenotification_days`` before, and the invoice names its due date as the earliest
    collection date."""
    earliest = issue_date + dt.timedelta(days=prenotification_days)
    return max(earliest, due_date) if due_date else earliest
