"""What a recurring line owes in a billing run: periods, proration, changes, credits.

Pure computation on frozen dataclasses and `Decimal`; the ORM layer loads a line into
`LineTerms`, its earlier charges into `BilledCharge`s, calls `due_charges` and stores
the result. Nothing here reads the clock or the database, so a run can be replayed.

Decisions (documented once, relied upon by the ORM layer and the tests):

Periods are aligned to the calendar, not to the line's start, so that all lines of a
customer share periods and one invoice per run covers one period:
  * MONTHLY:   from `billing_day` of a month to the day before `billing_day` of the next
               (billing_day 1 = calendar months);
  * QUARTERLY: from `billing_day` of Jan/Apr/Jul/Oct, three months long;
  * YEARLY:    from `billing_day` of January, twelve months long.
A line that starts or ends inside a period pays for its days only: quantity × unit
price × covered days / days in the period, rounded per charge (DESIGN.md, "Money").

When a period is due (`due_charges`):
  * ADVANCE: once its first billable day (line start, day after the trial) falls on or
    before the last day of the run month - we do not invoice service that has not begun;
  * ARREARS: once its last billable day (period end, or line end) is before the run
    month - the final partial period is invoiced right after the service ended.
Earlier due periods that were never charged are caught up, so a skipped run or a
lifted billing hold loses nothing.

Charge kinds; (period_start, kind) is unique per line and is the idempotency key the
database enforces, so every kind below can occur at most once per period:
  * "period"                   the first piece of a period billed for the first time;
  * "change-charge:<id>"       a later piece of such a period, in force from change <id>,
                               or the new version's days when change <id> reached an
                               already billed period;
  * "change-credit:<id>"       the reversal of what was billed for those days before
                               change <id> (negative quantity and amount);
  * "end-credit"               reversal of billed days after the line's end (cancellation
                               inside an already billed period);
  * "end-credit:<id>"          further pieces of that reversal, when the unused days had
                               been billed in several versions (<id> = the segment's
                               change in force on the piece's first day);
  * "setup"                    the setup fee, once, with the first charged period.
Credits carry a negative quantity, so that amount = quantity × unit_price × days /
days in period holds for every charge, and summing quantities per day yields what is
billed for that day.

Already billed periods are reconciled against what was actually billed (the
`BilledCharge`s, not the current terms): only the days whose billed version differs
from the terms are touched. Differences that none of the kinds above can express
(e.g. a longer trial or a moved start after billing, or a second change of the end)
raise `BillingConflict`, so the run lists the line for a manual credit note instead of
guessing.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import IntEnum, StrEnum
from itertools import pairwise

from organizations.money import money

ONE_DAY = timedelta(days=1)

PERIOD = "period"
SETUP = "setup"
END_CREDIT = "end-credit"
CHANGE_CHARGE_PREFIX = "change-charge:"
CHANGE_CREDIT_PREFIX = "change-credit:"

# Reason keys for `Charge.description`; the ORM layer renders them in the user's language.
REASON_FULL = "full"
REASON_PRORATED = "prorated"
REASON_TRIAL = "trial"
REASON_CHANGE = "change"
REASON_CHANGE_CREDIT = "change-credit"
REASON_END_CREDIT = "end-credit"
REASON_SETUP = "setup"


class Cycle(IntEnum):
    """Billing cycle; the value is the number of months per period."""

    MONTHLY = 1
    QUARTERLY = 3
    YEARLY = 12


class Timing(StrEnum):
    ADVANCE = "advance"
    ARREARS = "arrears"


class BillingConflict(ValueError):
    """Billed charges and terms differ in a way no automatic charge can settle."""


@dataclass(frozen=True)
class Segment:
    """A version of the line's quantity and price, in force from `start` (inclusive)
    until the next segment's start."""

    start: date
    quantity: Decimal
    unit_price: Decimal  # per unit per full period
    change_id: str = ""  # stable id of the change that created it; "" for the original


@dataclass(frozen=True)
class LineTerms:
    cycle: Cycle
    timing: Timing
    start: date  # first day of service
    end: date | None  # last day of service (inclusive); None = open-ended
    segments: tuple[Segment, ...]  # sorted by start; segments[0].start <= start
    trial_end: date | None = None  # last free day (inclusive)
    setup_fee: Decimal = Decimal("0")
    billing_day: int = 1  # 1..28: periods start on this day of the month

    def __post_init__(self) -> None:
        _check_billing_day(self.billing_day)
        if not self.segments:
            raise ValueError("a line needs at least one segment")
        if self.segments[0].start > self.start:
            raise ValueError("the first segment must be in force on the line's start")
        for earlier, later in pairwise(self.segments):
            if later.start <= earlier.start:
                raise ValueError("segments must be sorted by start, one per day")
        change_ids = [s.change_id for s in self.segments[1:]]
        # Change ids become part of charge kinds, i.e. of the idempotency key.
        if "" in change_ids or len(set(change_ids)) != len(change_ids):
            raise ValueError("every segment after the first needs its own change_id")
        for value in (self.setup_fee, *(v for s in self.segments for v in (s.quantity, s.unit_price))):
            if not isinstance(value, Decimal):
                raise TypeError(f"money and quantities must be Decimal, got {value!r}")

    def segment_on(self, day: date) -> Segment:
        """The segment in force on `day` (the first one before it starts)."""
        current = self.segments[0]
        for segment in self.segments[1:]:
            if segment.start > day:
                break
            current = segment
        return current


@dataclass(frozen=True)
class BilledCharge:
    """What an earlier run already charged for this line (loaded from the database)."""

    period_start: date
    kind: str
    service_start: date
    service_end: date
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    # The last day of the period it was billed for; None when unknown (then the period is
    # taken to be the line's period starting on `period_start`).
    period_end: date | None = None


@dataclass(frozen=True)
class Charge:
    period_start: date  # with `kind` the idempotency key, unique per line
    period_end: date
    kind: str  # see the module docstring
    service_start: date  # the days this charge covers (inclusive)
    service_end: date
    quantity: Decimal  # negative for credits
    unit_price: Decimal  # per full period
    amount: Decimal  # quantized to cents, negative for credits
    description: str  # reason key (REASON_*), rendered by the ORM layer

    def to_billed(self) -> BilledCharge:
        """The record a later run gets back once this charge is stored."""
        return BilledCharge(
            period_start=self.period_start,
            kind=self.kind,
            service_start=self.service_start,
            service_end=self.service_end,
            quantity=self.quantity,
            unit_price=self.unit_price,
            amount=self.amount,
            period_end=self.period_end,
        )


def change_charge_kind(change_id: str) -> str:
    return f"{CHANGE_CHARGE_PREFIX}{change_id}"


def change_credit_kind(change_id: str) -> str:
    return f"{CHANGE_CREDIT_PREFIX}{change_id}"


# --- small helpers ------------------------------------------------------------------


def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def days_in(start: date, end: date) -> int:
    """Number of days from `start` to `end`, both inclusive (0 if end < start)."""
    return max((end - start).days + 1, 0)


def prorate(quantity: Decimal, unit_price: Decimal, days: int, period_days: int) -> Decimal:
    """Amount for `days` of a period of `period_days`, rounded to cents."""
    return money(quantity * unit_price * Decimal(days) / Decimal(period_days))


def _check_billing_day(billing_day: int) -> None:
    # Capped at 28 so that every month has the day and periods never need clamping.
    if not 1 <= billing_day <= 28:
        raise ValueError(f"billing_day must be between 1 and 28, got {billing_day}")


# --- periods --------------------------------------------------------------------------


def period_bounds(cycle: Cycle, billing_day: int, day: date) -> tuple[date, date]:
    """First and last day (inclusive) of the period that contains `day`.

    Monthly periods run from `billing_day` to the day before `billing_day` of the next
    month; quarterly ones start in Jan/Apr/Jul/Oct, yearly ones in January (see module
    docstring). With billing_day 15: monthly 15 Feb - 14 Mar, quarterly 15 Jan - 14 Apr.
    """
    _check_billing_day(billing_day)
    months = day.year * 12 + day.month - 1  # months since year 0, January = 0 mod 12
    if day.day < billing_day:
        months -= 1  # the period began in the previous month
    months -= months % cycle  # align to Jan/Apr/Jul/Oct resp. January
    return _month_day(months, billing_day), _month_day(months + cycle, billing_day) - ONE_DAY


def _month_day(months: int, day: int) -> date:
    year, month = divmod(months, 12)
    return date(year, month + 1, day)


def periods_between(cycle: Cycle, billing_day: int, first: date, last: date) -> list[tuple[date, date]]:
    """All periods that overlap [first, last], in order."""
    periods: list[tuple[date, date]] = []
    day = first
    while day <= last:
        period = period_bounds(cycle, billing_day, day)
        periods.append(period)
        day = period[1] + ONE_DAY
    return periods


def billable_window(terms: LineTerms, period_start: date, period_end: date) -> tuple[date, date] | None:
    """The days of a period that are charged: in service and past the trial."""
    first = max(period_start, terms.start)
    if terms.trial_end is not None:
        first = max(first, terms.trial_end + ONE_DAY)
    last = period_end if terms.end is None else min(period_end, terms.end)
    return (first, last) if first <= last else None


def _is_due(timing: Timing, window: tuple[date, date], run_month: date, arrears_cutoff: date) -> bool:
    if timing is Timing.ADVANCE:
        return window[0] <= month_end(run_month)
    return window[1] < arrears_cutoff


# --- the run --------------------------------------------------------------------------


def due_charges(
    terms: LineTerms, *, run_month: date, billed: Iterable[BilledCharge], arrears_cutoff: date | None = None
) -> list[Charge]:
    """New charges for a run in `run_month` (its first day), given what was billed.

    In-arrears periods are due once they ended before `arrears_cutoff`, the day the run
    bills (default: the first of `run_month`); a run on the 15th bills a period that
    ended on the 14th.

    `billed` must be the line's complete charge history: a period without charges in it
    counts as never billed and is caught up. Idempotent: feeding the result back as
    `billed` and running again yields nothing. Raises `BillingConflict` when billed
    periods cannot be settled automatically.
    """
    if run_month.day != 1:
        raise ValueError(f"run_month must be the first day of a month, got {run_month}")
    history = list(billed)
    billed_by_period: dict[date, list[BilledCharge]] = {}
    for charge in history:
        if charge.kind != SETUP:
            billed_by_period.setdefault(charge.period_start, []).append(charge)

    # Every period in service up to the horizon, plus every period billed before (the
    # line may since have ended before it, which calls for a credit).
    last = month_end(run_month)
    if terms.end is not None:
        last = min(last, terms.end)
    periods = dict(periods_between(terms.cycle, terms.billing_day, terms.start, last))
    for period_start, already in billed_by_period.items():
        bounds = period_bounds(terms.cycle, terms.billing_day, period_start)
        ends = {c.period_end for c in already if c.period_end is not None}
        if bounds[0] != period_start or ends - {bounds[1]}:
            # Billed on periods laid out on another billing day (or cycle): the periods
            # the terms lay out now overlap it, so its days would be billed a second time.
            raise BillingConflict(
                f"billed period {period_start}..{max(ends, default=period_start)} is not a period start of "
                f"this line (billing day {terms.billing_day}): its days would be billed twice; "
                "needs a manual correction"
            )
        periods[period_start] = bounds[1]

    charges: list[Charge] = []
    first_charged: date | None = None
    for period_start, period_end in sorted(periods.items()):
        already = billed_by_period.get(period_start)
        if already:
            charges += _reconcile_period(terms, period_start, period_end, already)
            if any(c.kind == PERIOD for c in already):
                first_charged = first_charged or period_start
            continue
        window = billable_window(terms, period_start, period_end)
        if window is not None and _is_due(terms.timing, window, run_month, arrears_cutoff or run_month):
            charges += _first_charges(terms, period_start, period_end, window)
            first_charged = first_charged or period_start

    setup_billed = any(charge.kind == SETUP for charge in history)
    if terms.setup_fee and first_charged is not None and not setup_billed:
        charges.append(_setup_charge(terms, first_charged))
    return sorted(charges, key=lambda c: c.period_start)  # stable: keeps the order within a period


def _charge(
    *,
    kind: str,
    period: tuple[date, date],
    days: tuple[date, date],
    quantity: Decimal,
    unit_price: Decimal,
    description: str,
) -> Charge:
    return Charge(
        period_start=period[0],
        period_end=period[1],
        kind=kind,
        service_start=days[0],
        service_end=days[1],
        quantity=quantity,
        unit_price=unit_price,
        amount=prorate(quantity, unit_price, days_in(*days), days_in(*period)),
        description=description,
    )


def _pieces(terms: LineTerms, window: tuple[date, date]) -> list[tuple[Segment, date, date]]:
    """Split a window at segment starts: (segment, first day, last day) per piece."""
    pieces: list[tuple[Segment, date, date]] = []
    first, last = window
    for index, segment in enumerate(terms.segments):
        following = terms.segments[index + 1].start if index + 1 < len(terms.segments) else None
        piece_first = max(first, segment.start)
        piece_last = last if following is None else min(last, following - ONE_DAY)
        if piece_first <= piece_last:
            pieces.append((segment, piece_first, piece_last))
    return pieces


def _first_charges(
    terms: LineTerms, period_start: date, period_end: date, window: tuple[date, date]
) -> list[Charge]:
    """Charges for a period billed for the first time, one per segment piece."""
    period = (period_start, period_end)
    charges: list[Charge] = []
    for segment, first, last in _pieces(terms, window):
        if not charges:
            kind = PERIOD
            if (first, last) == period:
                reason = REASON_FULL
            elif terms.trial_end is not None and first == terms.trial_end + ONE_DAY:
                reason = REASON_TRIAL
            else:
                reason = REASON_PRORATED
        else:
            kind, reason = change_charge_kind(segment.change_id), REASON_CHANGE
        charges.append(
            _charge(
                kind=kind,
                period=period,
                days=(first, last),
                quantity=segment.quantity,
                unit_price=segment.unit_price,
                description=reason,
            )
        )
    return charges


def _setup_charge(terms: LineTerms, period_start: date) -> Charge:
    return Charge(
        period_start=period_start,
        period_end=period_bounds(terms.cycle, terms.billing_day, period_start)[1],
        kind=SETUP,
        service_start=terms.start,  # the setup is supplied when the service begins
        service_end=terms.start,
        quantity=Decimal("1"),
        unit_price=terms.setup_fee,
        amount=money(terms.setup_fee),
        description=REASON_SETUP,
    )


# --- reconciling a billed period -------------------------------------------------------

# What one day is billed at or should be billed at: (quantity, unit_price), None = nothing.
Version = tuple[Decimal, Decimal] | None


@dataclass(frozen=True)
class _Span:
    """Consecutive days of one period on which billed and wanted versions are constant."""

    first: date
    last: date
    in_service: bool  # inside the billable window (in service, past the trial)
    billed: Version
    wanted: Version
    segment: Segment


def _billed_version(charges: list[BilledCharge], day: date, period_start: date) -> Version:
    net: dict[Decimal, Decimal] = {}
    for charge in charges:
        if charge.service_start <= day <= charge.service_end:
            net[charge.unit_price] = net.get(charge.unit_price, Decimal("0")) + charge.quantity
    net = {price: quantity for price, quantity in net.items() if quantity}
    if len(net) > 1:
        raise BillingConflict(f"period {period_start}: {day} is billed at several prices")
    return next(((quantity, price) for price, quantity in net.items()), None)


def _spans(terms: LineTerms, period: tuple[date, date], charges: list[BilledCharge]) -> list[_Span]:
    window = billable_window(terms, *period)
    cuts = {period[0], period[1] + ONE_DAY}
    for charge in charges:
        if charge.service_start < period[0] or charge.service_end > period[1]:
            raise BillingConflict(f"period {period[0]}: charge {charge.kind} lies outside the period")
        cuts |= {charge.service_start, charge.service_end + ONE_DAY}
    cuts |= {s.start for s in terms.segments if period[0] < s.start <= period[1]}
    if window is not None:
        cuts |= {window[0], window[1] + ONE_DAY}
    if terms.end is not None and period[0] <= terms.end < period[1]:
        cuts.add(terms.end + ONE_DAY)
    spans: list[_Span] = []
    for first, after in pairwise(sorted(cuts)):
        segment = terms.segment_on(first)
        in_service = window is not None and window[0] <= first <= window[1]
        spans.append(
            _Span(
                first=first,
                last=after - ONE_DAY,
                in_service=in_service,
                billed=_billed_version(charges, first, period[0]),
                # A zero quantity (a paused line) is billed as nothing.
                wanted=(segment.quantity, segment.unit_price) if in_service and segment.quantity else None,
                segment=segment,
            )
        )
    return spans


def _reconcile_period(
    terms: LineTerms, period_start: date, period_end: date, billed: list[BilledCharge]
) -> list[Charge]:
    """Credits and charges that bring an already billed period in line with the terms."""
    period = (period_start, period_end)
    spans = _spans(terms, period, billed)
    existing = {charge.kind for charge in billed}
    changed: list[Segment] = []  # segments with days billed in another version, in order
    unused: list[_Span] = []  # billed days after the line's end
    for span in spans:
        if span.billed == span.wanted:
            continue
        if not span.in_service and terms.end is not None and span.first > terms.end:
            unused.append(span)
        elif span.in_service and span.segment.change_id:
            if span.segment not in changed:
                changed.append(span.segment)
        else:
            raise BillingConflict(
                f"period {period_start}: {span.first}..{span.last} billed as {span.billed}, "
                f"terms say {span.wanted}; needs a manual correction"
            )

    charges: list[Charge] = []
    for segment in changed:
        charges += _change_charges(segment, period, [s for s in spans if s.segment is segment], existing)
    charges += _end_credits(period, unused, existing)
    return charges


def _change_charges(
    segment: Segment, period: tuple[date, date], spans: list[_Span], existing: set[str]
) -> list[Charge]:
    """Credit what was billed for the segment's days in this period and charge the segment."""
    credit_kind = change_credit_kind(segment.change_id)
    charge_kind = change_charge_kind(segment.change_id)
    active = [s for s in spans if s.in_service]
    billed_versions = {s.billed for s in active}
    if credit_kind in existing or charge_kind in existing or len(billed_versions) != 1:
        raise BillingConflict(
            f"period {period[0]}: change {segment.change_id} cannot be settled automatically"
        )
    days = (active[0].first, active[-1].last)
    charges: list[Charge] = []
    old = billed_versions.pop()
    if old is not None:
        charges.append(
            _charge(
                kind=credit_kind,
                period=period,
                days=days,
                quantity=-old[0],
                unit_price=old[1],
                description=REASON_CHANGE_CREDIT,
            )
        )
    charges.append(
        _charge(
            kind=charge_kind,
            period=period,
            days=days,
            quantity=segment.quantity,
            unit_price=segment.unit_price,
            description=REASON_CHANGE,
        )
    )
    return charges


def _end_credits(period: tuple[date, date], unused: list[_Span], existing: set[str]) -> list[Charge]:
    """Reverse billed days after the line's end, one credit per run of one version."""
    runs: list[list[_Span]] = []
    for span in unused:
        previous = runs[-1][-1] if runs else None
        if previous is not None and previous.last + ONE_DAY == span.first and previous.billed == span.billed:
            runs[-1].append(span)
        else:
            runs.append([span])
    charges: list[Charge] = []
    for run in runs:
        kind = END_CREDIT if not charges else f"{END_CREDIT}:{run[0].segment.change_id}"
        version = run[0].billed
        if (
            kind in existing
            or kind in {c.kind for c in charges}
            or kind == f"{END_CREDIT}:"
            or version is None
        ):
            raise BillingConflict(f"period {period[0]}: the line's end cannot be settled automatically")
        charges.append(
            _charge(
                kind=kind,
                period=period,
                days=(run[0].first, run[-1].last),
                quantity=-version[0],
                unit_price=version[1],
                description=REASON_END_CREDIT,
            )
        )
    return charges
