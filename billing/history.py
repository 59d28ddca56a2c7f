"""How much of a line's billing history a run has to look at (pure, no ORM).

`engine.due_charges` wants a line's complete charge history and reconciles every billed
period on every run. For a line billed monthly for five years that is sixty periods,
read from the database and reconciled sixty times a year - for nothing, because a
period that was consistent with the terms after the last run stays consistent unless
something reached back into it since:

* a quantity/price change (`RecurringLineChange`) the line's charges have not seen yet
  (its id is above the `terms_version` stored on the newest charges), effective on or
  before the last billed day;
* an end date (of the line or its folder) before the last billed day, which calls for
  end credits.

So the loader reconciles from the last billed period on (always - it is one period and
catches edits the rules above do not name), and further back only to the periods such
a change or end reaches. `settled_day` computes that boundary; `settle_through` cuts
terms and history to it. Both are exact: the property test
(tests/billing/test_history.py) bills random scenarios with full and with narrowed
histories and compares every charge.

The boundary is laid out on the line's current billing day. Should that day have moved
under billed periods, a billed charge can start before the boundary and still cover days
after it; `settle_through` keeps every charge that reaches past the boundary, so the
engine sees the overlap and refuses it (BillingConflict) instead of billing those days
again on the new day's periods.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta

from .engine import SETUP, BilledCharge, Cycle, LineTerms, period_bounds

ONE_DAY = timedelta(days=1)


def settled_day(
    *,
    cycle: Cycle,
    billing_day: int,
    billed_through: date | None,
    unseen_change_starts: Iterable[date],
    end: date | None,
    setup_pending: bool,
    has_history: bool = True,
    elsewhere_through: date | None = None,
) -> date | None:
    """Last day of the periods a run may treat as settled, or None (reconcile all).

    `unseen_change_starts`: effective dates of changes newer than the line's charges.
    `setup_pending`: a setup fee is set but was never charged (added after billing
    began) - the engine puts it on the first charged period, so it needs everything.
    `has_history`: False for a line with `billed_through` but no charges of its own
    (taken over from an earlier system): everything through the end of the period that
    contains `billed_through` counts as billed there - never bill a day twice, and a
    period billed up to a day inside it is one that ended there.
    `elsewhere_through`: the line was taken over from an earlier system that billed it
    through this day (and its setup fee); those periods stay settled for good, however
    far this system's own billing has moved on since.
    """
    floor = period_bounds(cycle, billing_day, elsewhere_through)[1] if elsewhere_through else None
    settled = _settled_own(
        cycle=cycle,
        billing_day=billing_day,
        billed_through=billed_through,
        unseen_change_starts=unseen_change_starts,
        end=end,
        setup_pending=setup_pending and floor is None,
        has_history=has_history,
    )
    if floor is None:
        return settled
    return floor if settled is None else max(settled, floor)


def _settled_own(
    *,
    cycle: Cycle,
    billing_day: int,
    billed_through: date | None,
    unseen_change_starts: Iterable[date],
    end: date | None,
    setup_pending: bool,
    has_history: bool,
) -> date | None:
    if billed_through is None:
        return None
    if not has_history:
        return period_bounds(cycle, billing_day, billed_through)[1]
    if setup_pending:
        return None
    settled = period_bounds(cycle, billing_day, billed_through)[0] - ONE_DAY
    for start in unseen_change_starts:
        if start <= billed_through:
            settled = min(settled, period_bounds(cycle, billing_day, start)[0] - ONE_DAY)
    if end is not None and end < billed_through:
        settled = min(settled, period_bounds(cycle, billing_day, end + ONE_DAY)[0] - ONE_DAY)
    return settled


def settle_through(
    terms: LineTerms, billed: Iterable[BilledCharge], settled: date | None
) -> tuple[LineTerms, list[BilledCharge]]:
    """Terms and history for `due_charges` without the periods ending on or before
    `settled` (the last day of a period of this line, see `settled_day`).

    Periods from the next day on come out exactly as with the complete history; the
    earlier ones are neither caught up nor reconciled. The terms start on the first open
    day (the line started earlier, so every later period's billable days are unchanged);
    the setup charge is kept wherever it lies, so the fee stays charged once.
    """
    history = list(billed)
    if settled is None or settled < terms.start:
        return terms, history
    if period_bounds(terms.cycle, terms.billing_day, settled)[1] != settled:
        raise ValueError(f"{settled} is not the last day of a period of this line")
    first_open = settled + ONE_DAY
    # Kept by what they cover, not by where they start: a charge laid out on another
    # billing day (the day changed after billing) may start before `first_open` and still
    # cover days after it. The engine must see it to refuse the overlap - dropped here,
    # its days would be billed a second time on the new day's periods.
    kept = [c for c in history if c.kind == SETUP or _reaches(c, first_open)]
    return replace(terms, start=first_open), kept


def _reaches(charge: BilledCharge, day: date) -> bool:
    """Whether the charge's period (or, if its end is unknown, its days) reaches `day`."""
    return charge.service_end >= day or (charge.period_end is not None and charge.period_end >= day)
