"""Properties of the billing engine over random lines and random run sequences.

A scenario is a line whose changes and cancellation become known over time (a clerk
records them in some month, possibly backdated), billed by a sequence of monthly runs
that may skip months. Changes are recorded in the order of their effective dates, as
the back office does; the end is recorded once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.engine import (
    SETUP,
    BilledCharge,
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
from organizations.months import first_of_month_after

PROPERTIES = settings(max_examples=200, deadline=None)
ONE_DAY = timedelta(days=1)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Scenario:
    cycle: Cycle
    timing: Timing
    billing_day: int
    start: date
    original: Segment
    changes: tuple[tuple[Segment, date], ...]  # (change, month it becomes known)
    end: date | None
    end_known: date
    trial_end: date | None
    setup_fee: Decimal
    runs: tuple[date, ...]  # run months in order; the last is the horizon

    def terms(self, known_in: date | None = None) -> LineTerms:
        """The line as the back office knows it in `known_in` (None: everything)."""
        return LineTerms(
            cycle=self.cycle,
            timing=self.timing,
            start=self.start,
            end=self.end if known_in is None or self.end_known <= known_in else None,
            segments=(
                self.original,
                *(c for c, known in self.changes if known_in is None or known <= known_in),
            ),
            trial_end=self.trial_end,
            setup_fee=self.setup_fee,
            billing_day=self.billing_day,
        )


quantities = st.sampled_from(["0", "1", "1", "2", "3", "0.5", "12"]).map(Decimal)
prices = st.integers(min_value=0, max_value=99_999).map(lambda cents: Decimal(cents).scaleb(-2))
billing_days = st.sampled_from([1, 15, 28]) | st.integers(min_value=1, max_value=28)


@st.composite
def scenarios(draw: st.DrawFn, *, evolving: bool = True) -> Scenario:
    start = draw(st.dates(min_value=date(2027, 1, 1), max_value=date(2028, 12, 31)))
    first_run = first_of_month_after(month_start(start), -draw(st.integers(min_value=0, max_value=2)))
    months = [first_of_month_after(first_run, n) for n in range(draw(st.integers(min_value=1, max_value=30)))]
    runs = sorted(set(draw(st.lists(st.sampled_from(months), max_size=len(months)))) | {months[-1]})

    def known() -> date:
        return draw(st.sampled_from(months)) if evolving else first_run

    offsets = sorted(draw(st.lists(st.integers(min_value=1, max_value=800), unique=True, max_size=4)))
    # Recorded in the order of their effective dates: a later change is never known earlier.
    known_months = sorted(known() for _ in offsets)
    changes = tuple(
        (Segment(start + timedelta(days=offset), draw(quantities), draw(prices), f"chg-{n}"), known_in)
        for n, (offset, known_in) in enumerate(zip(offsets, known_months, strict=True))
    )
    end_offset = draw(st.none() | st.integers(min_value=0, max_value=900))
    trial_days = draw(st.none() | st.integers(min_value=0, max_value=120))
    return Scenario(
        cycle=draw(st.sampled_from(list(Cycle))),
        timing=draw(st.sampled_from(list(Timing))),
        billing_day=draw(billing_days),
        start=start,
        original=Segment(start, draw(quantities), draw(prices)),
        changes=changes,
        end=None if end_offset is None else start + timedelta(days=end_offset),
        end_known=known(),
        trial_end=None if trial_days is None else start + timedelta(days=trial_days - 1),
        setup_fee=draw(st.sampled_from(["0", "0", "49.00", "99.99"]).map(Decimal)),
        runs=tuple(runs),
    )


def bill(scenario: Scenario, runs: tuple[date, ...], *, check_idempotent: bool = False) -> list[Charge]:
    stored: list[Charge] = []
    for run_month in runs:
        terms = scenario.terms(run_month)
        new = due_charges(terms, run_month=run_month, billed=[c.to_billed() for c in stored])
        stored += new
        if check_idempotent:
            # Property 5: the same run again, with its charges stored, adds nothing.
            assert due_charges(terms, run_month=run_month, billed=[c.to_billed() for c in stored]) == []
    return stored


def is_due(terms: LineTerms, window: tuple[date, date], horizon: date) -> bool:
    if terms.timing is Timing.ADVANCE:
        return window[0] <= first_of_month_after(horizon, 1) - ONE_DAY
    return window[1] < horizon


def wanted_per_day(terms: LineTerms, horizon: date) -> dict[date, dict[Decimal, Decimal]]:
    """Per day of every due period: {unit price: quantity} of the segment in force."""
    wanted: dict[date, dict[Decimal, Decimal]] = {}
    last = terms.end or first_of_month_after(horizon, 13)
    for period_start, period_end in periods_between(terms.cycle, terms.billing_day, terms.start, last):
        first_day = max(period_start, terms.start)
        if terms.trial_end is not None:
            first_day = max(first_day, terms.trial_end + ONE_DAY)
        last_day = min(period_end, last)
        if first_day > last_day or not is_due(terms, (first_day, last_day), horizon):
            continue
        day = first_day
        while day <= last_day:
            segment = terms.segment_on(day)
            if segment.quantity:
                wanted[day] = {segment.unit_price: segment.quantity}
            day += ONE_DAY
    return wanted


def billed_per_day(charges: list[Charge]) -> dict[date, dict[Decimal, Decimal]]:
    net: dict[date, dict[Decimal, Decimal]] = defaultdict(dict)
    for charge in charges:
        if charge.kind == SETUP:
            continue
        day = charge.service_start
        while day <= charge.service_end:
            net[day][charge.unit_price] = net[day].get(charge.unit_price, Decimal("0")) + charge.quantity
            day += ONE_DAY
    cleaned = {day: {p: q for p, q in prices.items() if q} for day, prices in net.items()}
    return {day: prices for day, prices in cleaned.items() if prices}


@PROPERTIES
@given(scenario=scenarios())
def test_every_due_day_is_billed_exactly_once_at_the_version_in_force(scenario: Scenario) -> None:
    charges = bill(scenario, scenario.runs, check_idempotent=True)
    terms, horizon = scenario.terms(), scenario.runs[-1]

    # Properties 2 and 3: net of credits, each day carries the quantity in force, at its
    # price, no day twice, no active non-trial day up to the horizon left out.
    wanted = wanted_per_day(terms, horizon)
    assert billed_per_day(charges) == wanted

    keys = [(c.period_start, c.kind) for c in charges]
    assert len(keys) == len(set(keys)), "the database would refuse a duplicate key"
    setups = [c for c in charges if c.kind == SETUP]
    has_periods = any(c.kind == "period" for c in charges)
    assert len(setups) == (1 if scenario.setup_fee and has_periods else 0)

    by_period: dict[date, list[Charge]] = defaultdict(list)
    for charge in charges:
        period = period_bounds(terms.cycle, terms.billing_day, charge.period_start)
        assert (charge.period_start, charge.period_end) == period
        if charge.kind == SETUP:
            continue
        assert period[0] <= charge.service_start <= charge.service_end <= period[1]
        period_days = days_in(*period)
        assert charge.amount == prorate(
            charge.quantity, charge.unit_price, days_in(charge.service_start, charge.service_end), period_days
        )
        by_period[charge.period_start].append(charge)

    # The money follows: per period, the rounded charges are within half a cent each of
    # the exact price of the days in force.
    for period_start, period_charges in by_period.items():
        period_days = days_in(*period_bounds(terms.cycle, terms.billing_day, period_start))
        price_days = sum(
            (
                q * p
                for day, prices in wanted.items()
                if period_start <= day <= period_charges[0].period_end
                for p, q in prices.items()
            ),
            Decimal("0"),
        )
        exact = price_days / period_days  # one division, so the reference itself is exact enough
        total = sum((c.amount for c in period_charges), Decimal("0"))
        assert abs(total - exact) <= CENT / 2 * len(period_charges)


@PROPERTIES
@given(scenario=scenarios(evolving=False), data=st.data())
def test_catching_up_skipped_months_gives_the_same_charges(scenario: Scenario, data: st.DataObject) -> None:
    horizon = scenario.runs[-1]
    every_month = []
    month = first_of_month_after(month_start(scenario.start), -2)
    while month <= horizon:
        every_month.append(month)
        month = first_of_month_after(month, 1)
    skipping = sorted(set(data.draw(st.lists(st.sampled_from(every_month)))) | {horizon})

    in_order = bill(scenario, tuple(every_month))
    caught_up = bill(scenario, tuple(skipping))

    # Property 4: same keys and same amounts, hence the same total.
    def key(c: Charge) -> tuple[date, str]:
        return c.period_start, c.kind

    assert sorted(in_order, key=key) == sorted(caught_up, key=key)
    assert sum(c.amount for c in in_order) == sum(c.amount for c in caught_up)


@PROPERTIES
@given(
    cycle=st.sampled_from(list(Cycle)),
    billing_day=billing_days,
    day=st.dates(min_value=date(2024, 1, 1), max_value=date(2032, 12, 31)),
    cuts=st.lists(st.integers(min_value=1, max_value=365), unique=True, max_size=6),
    quantity=quantities,
    price=prices,
)
def test_pieces_of_a_fully_active_period_add_up_to_the_period_price(
    cycle: Cycle, billing_day: int, day: date, cuts: list[int], quantity: Decimal, price: Decimal
) -> None:
    # Property 1: versions with the same quantity and price split the period into pieces;
    # together they cost the full period price, give or take a cent per piece.
    period_start, period_end = period_bounds(cycle, billing_day, day)
    starts = sorted({period_start + timedelta(days=c) for c in cuts if c < days_in(period_start, period_end)})
    terms = LineTerms(
        cycle=cycle,
        timing=Timing.ADVANCE,
        start=period_start,
        end=None,
        segments=(
            Segment(period_start, quantity, price),
            *(Segment(s, quantity, price, f"cut-{n}") for n, s in enumerate(starts)),
        ),
        billing_day=billing_day,
    )
    pieces = [
        c
        for c in due_charges(terms, run_month=month_start(period_start), billed=[])
        if c.period_start == period_start
    ]
    assert len(pieces) == len(starts) + 1
    assert pieces[0].kind == "period" and all(p.kind.startswith("change-charge:") for p in pieces[1:])
    assert sum(days_in(p.service_start, p.service_end) for p in pieces) == days_in(period_start, period_end)
    full = (quantity * price).quantize(CENT)
    assert abs(sum(p.amount for p in pieces) - full) <= CENT * len(pieces)


@PROPERTIES
@given(scenario=scenarios())
def test_billed_charges_round_trip_through_the_stored_form(scenario: Scenario) -> None:
    # The ORM layer stores exactly these fields; nothing else may matter to a later run.
    charges = bill(scenario, scenario.runs)
    stored = [
        BilledCharge(
            period_start=c.period_start,
            kind=c.kind,
            service_start=c.service_start,
            service_end=c.service_end,
            quantity=c.quantity.normalize(),  # a database may hand back another exponent
            unit_price=c.unit_price.quantize(Decimal("0.0001")),
            amount=c.amount,
        )
        for c in charges
    ]
    horizon = scenario.runs[-1]
    assert due_charges(scenario.terms(), run_month=horizon, billed=stored) == []
