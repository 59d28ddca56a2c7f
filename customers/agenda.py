"""Calendar arithmetic for the action calendar: pure functions on dates, no ORM.

Months are addressed as ``YYYY-MM`` and weeks as ISO weeks ``YYYY-Www`` (the week
numbering German calendars print), both in the URL so a view can be bookmarked.
Malformed values parse to ``None`` and the view falls back to today.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


def parse_month(value: str | None) -> dt.date | None:
    """First day of the month given as ``YYYY-MM``; None when malformed or out of range."""
    match = _MONTH.match((value or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (1 <= month <= 12 and 1900 <= year <= 2999):
        return None
    return dt.date(year, month, 1)


def parse_week(value: str | None) -> dt.date | None:
    """Monday of the ISO week given as ``YYYY-Www``; None when malformed or out of range."""
    match = _WEEK.match((value or "").strip())
    if not match:
        return None
    year, week = int(match.group(1)), int(match.group(2))
    if not 1900 <= year <= 2999:
        return None
    try:
        return dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        return None


def month_key(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def week_key(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def month_range(first: dt.date) -> tuple[dt.date, dt.date]:
    """The days the month grid shows: Monday before the 1st to Sunday after the last day."""
    last = dt.date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
    start = week_start(first)
    end = week_start(last) + dt.timedelta(days=6)
    return start, end


@dataclass
class Day:
    date: dt.date
    in_month: bool = True
    is_today: bool = False
    items: list[Any] = field(default_factory=list)


def month_weeks(first: dt.date, items_by_day: dict[dt.date, list[Any]], today: dt.date) -> list[list[Day]]:
    """The month as weeks (Monday first) of days, each with its items."""
    start, end = month_range(first)
    weeks: list[list[Day]] = []
    day = start
    while day <= end:
        week = []
        for _ in range(7):
            week.append(
                Day(
                    date=day,
                    in_month=day.month == first.month,
                    is_today=day == today,
                    items=items_by_day.get(day, []),
                )
            )
            day += dt.timedelta(days=1)
        weeks.append(week)
    return weeks


def week_days(monday: dt.date, items_by_day: dict[dt.date, list[Any]], today: dt.date) -> list[Day]:
    return [
        Day(date=d, is_today=d == today, items=items_by_day.get(d, []))
        for d in (monday + dt.timedelta(days=i) for i in range(7))
    ]
