"""The loader's narrowed history gives exactly the charges of the complete history.

The billing run does not read a line's whole history: it reconciles from the last billed
period on, and further back only where an unseen change or an end date reaches
(billing.history). These properties bill random scenarios (from the engine's property
tests) twice, once with everything and once as the loader does, and compare every run.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings

from billing.engine import (
    CHANGE_CHARGE_PREFIX,
    PERIOD,
    SETUP,
    BillingConflict,
    Charge,
    Cycle,
    LineTerms,
    Segment,
    due_charges,
    period_bounds,
)
from billing.history import settle_through, settled_day
from tests.billing.test_engine import line
from tests.billing.test_engine_properties import Scenario, scenarios

ONE_DAY = timedelta(days=1)


def known_changes(scenario: Scenario, run_month: date) -> list[tuple[int, Segment]]:
    """(id, segment) of the changes known in `run_month`; ids grow in the order they became known."""
    return [(n + 1, c) for n, (c, known) in enumerate(scenario.changes) if known <= run_month]


def billed_through(stored: list[tuple[Charge, int]]) -> date | None:
    ends = [c.service_end for c, _ in stored if c.kind == PERIOD or c.kind.startswith(CHANGE_CHARGE_PREFIX)]
    return max(ends) if ends else None


def narrowed_run(scenario: Scenario, run_month: date, stored: list[tuple[Charge, int]]) -> list[Charge]:
    """One run as the ORM loader does it (billing.services / billing.planning)."""
    terms = scenario.terms(run_month)
    through = billed_through(stored)
    window = [
        (c, v) for c, v in stored if c.kind == SETUP or (through is not None and c.period_end >= through)
    ]
    seen = max((v for _, v in window), default=0)
    settled = settled_day(
        cycle=terms.cycle,
        billing_day=terms.billing_day,
        billed_through=through,
        unseen_change_starts=[s.start for n, s in known_changes(scenario, run_month) if n > seen],
        end=terms.end,
        setup_pending=bool(terms.setup_fee) and not any(c.kind == SETUP for c, _ in stored),
    )
    last_billed_start = None if through is None else period_bounds(terms.cycle, terms.billing_day, through)[0]
    if settled is None or last_billed_start is None or settled < last_billed_start - ONE_DAY:
        history = [c.to_billed() for c, _ in stored]  # the loader reads the line's whole history
    else:
        history = [c.to_billed() for c, _ in window]
    narrowed, history = settle_through(terms, history, settled)
    return due_charges(narrowed, run_month=run_month, billed=history)


@settings(max_examples=300, deadline=None)
@given(scenario=scenarios())
def test_it_bills_the_same_with_the_narrowed_history(scenario: Scenario) -> None:
    full: list[Charge] = []
    narrow: list[tuple[Charge, int]] = []
    for run_month in scenario.runs:
        terms = scenario.terms(run_month)
        try:
            expected = due_charges(terms, run_month=run_month, billed=[c.to_billed() for c in full])
        except BillingConflict:
            return  # the complete history cannot settle it either; the run lists the line
        got = narrowed_run(scenario, run_month, narrow)
        assert got == expected, run_month
        full += expected
        version = len(known_changes(scenario, run_month))
        narrow += [(c, version) for c in got]


def test_it_keeps_everything_before_the_first_billing() -> None:
    assert (
        settled_day(
            cycle=Cycle.MONTHLY,
            billing_day=1,
            billed_through=None,
            unseen_change_starts=[],
            end=None,
            setup_pending=False,
        )
        is None
    )


def test_it_reconciles_from_the_last_billed_period_or_an_unseen_change() -> None:
    kwargs = {"cycle": Cycle.MONTHLY, "billing_day": 1, "end": None, "setup_pending": False}
    through = date(2026, 10, 31)
    assert settled_day(billed_through=through, unseen_change_starts=[], **kwargs) == date(2026, 9, 30)
    assert settled_day(billed_through=through, unseen_change_starts=[date(2026, 7, 15)], **kwargs) == date(
        2026, 6, 30
    )
    # A change after the billed days needs nothing old.
    assert settled_day(billed_through=through, unseen_change_starts=[date(2026, 12, 1)], **kwargs) == date(
        2026, 9, 30
    )
    kwargs["end"] = date(2026, 8, 10)
    assert settled_day(billed_through=through, unseen_change_starts=[], **kwargs) == date(2026, 7, 31)


def test_it_refuses_a_boundary_inside_a_period() -> None:
    terms = line(start=date(2025, 1, 1), price="30", cycle=Cycle.QUARTERLY)
    with pytest.raises(ValueError):
        settle_through(terms, [], date(2026, 2, 28))
    narrowed, _ = settle_through(terms, [], date(2026, 3, 31))
    assert narrowed.start == date(2026, 4, 1)


def _monthly(billing_day: int) -> LineTerms:
    return line(start=date(2026, 10, 1), price="31", billing_day=billing_day)


def _billed_on_day_one(run_month: date) -> list:
    """What runs on billing day 1 charged from October through `run_month`."""
    return [c.to_billed() for c in due_charges(_monthly(1), run_month=run_month, billed=[])]


@pytest.mark.parametrize(("old_day", "new_day"), [(1, 15), (1, 28), (15, 1), (28, 2)])
def test_it_lists_a_line_whose_billing_day_changed_after_billing_instead_of_billing_days_twice(
    old_day: int, new_day: int
) -> None:
    billed = [c.to_billed() for c in due_charges(_monthly(old_day), run_month=date(2026, 12, 1), billed=[])]
    through = max(c.service_end for c in billed)
    terms = _monthly(new_day)
    settled = settled_day(
        cycle=terms.cycle,
        billing_day=new_day,
        billed_through=through,
        unseen_change_starts=[],
        end=None,
        setup_pending=False,
    )
    # The window the loader reads: from the last billed period on.
    window = [c for c in billed if c.period_end >= through]
    narrowed, history = settle_through(terms, window, settled)
    assert history, "the charge that overlaps the new periods must reach the engine"
    with pytest.raises(BillingConflict, match="billed twice"):
        due_charges(narrowed, run_month=date(2027, 1, 1), billed=history)


def test_it_keeps_the_narrowed_history_unchanged_when_the_billing_day_is_kept() -> None:
    billed = _billed_on_day_one(date(2026, 12, 1))
    settled = date(2026, 11, 30)
    _narrowed, history = settle_through(_monthly(1), billed, settled)
    assert [c.period_start for c in history] == [date(2026, 12, 1)]


def test_it_refuses_a_billed_period_whose_end_does_not_fit_the_terms() -> None:
    billed = [c.to_billed() for c in due_charges(_monthly(1), run_month=date(2026, 10, 1), billed=[])]
    quarterly = line(start=date(2026, 10, 1), price="31", cycle=Cycle.QUARTERLY)
    with pytest.raises(BillingConflict):
        due_charges(quarterly, run_month=date(2026, 11, 1), billed=billed)
