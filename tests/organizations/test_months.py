"""Month starts: one rule for billing runs, the preview and the customer calendar."""

from __future__ import annotations

import datetime as dt

from folders.terms import months_after_clamped
from organizations.months import first_of_month_after


def test_it_steps_to_the_first_of_a_later_or_earlier_month_whatever_the_day():
    assert first_of_month_after(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 1)
    assert first_of_month_after(dt.date(2026, 12, 1), 1) == dt.date(2027, 1, 1)
    assert first_of_month_after(dt.date(2026, 1, 15), -1) == dt.date(2025, 12, 1)
    assert first_of_month_after(dt.date(2026, 3, 1), -27) == dt.date(2023, 12, 1)


def test_contract_terms_keep_the_day_and_clamp_it_instead():
    assert months_after_clamped(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert months_after_clamped(dt.date(2026, 1, 15), -1) == dt.date(2025, 12, 15)
