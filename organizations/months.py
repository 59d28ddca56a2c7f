"""Month arithmetic on month starts (pure).

Billing runs, the preview's month list and the customer calendar all step from one month
to the next by its 1st. Contract terms step by calendar months from any day and clamp
the day instead: that is ``folders.terms.months_after_clamped``.
"""

from __future__ import annotations

import datetime as dt


def first_of_month_after(day: dt.date, months: int) -> dt.date:
    """The 1st of the month ``months`` months after ``day``'s month (negative: before).

    The day of ``day`` plays no part: 31 Jan and 1 Jan + 1 give 1 Feb alike.
    """
    year, index = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, index + 1, 1)
