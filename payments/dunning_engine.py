"""Which level an overdue invoice reaches today: pure rules, no database.

A dunning letter must be justified: the invoice is really open, really overdue, and the
debtor had the configured time since the due date (level 1) or since the previous letter
(later levels) to pay. Every reason not to dun wins over every reason to dun.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

ZERO = Decimal("0.00")


class HoldReason:
    """Why an overdue invoice is not dunned (shown on the run page)."""

    PAID = "paid"
    PENDING = "collection_pending"
    DISPUTED = "disputed"
    STOPPED = "dunning_stop"
    LAST_LEVEL = "last_level"
    WAITING = "waiting"
    DUNNED_TODAY = "dunned_today"


@dataclasses.dataclass(frozen=True)
class LevelRule:
    position: int
    days: int
    enabled: bool = True


@dataclasses.dataclass(frozen=True)
class InvoiceFacts:
    due_date: dt.date | None
    open: Decimal
    last_level: int = 0
    last_dunned_on: dt.date | None = None
    pending_collection: bool = False
    disputed: bool = False
    stopped: bool = False


@dataclasses.dataclass(frozen=True)
class Verdict:
    level: int | None
    hold: str = ""
    # When the next level will be reached (for a waiting invoice).
    next_on: dt.date | None = None


def is_overdue(facts: InvoiceFacts, today: dt.date) -> bool:
    return facts.due_date is not None and facts.due_date < today and facts.open > ZERO


def next_rule(rules: Sequence[LevelRule], after: int) -> LevelRule | None:
    """The first level in use above ``after`` (a level switched off is skipped)."""
    for rule in sorted(rules, key=lambda r: r.position):
        if rule.enabled and rule.position > after:
            return rule
    return None


def verdict(facts: InvoiceFacts, rules: Sequence[LevelRule], today: dt.date) -> Verdict:
    """The level the invoice is dunned at today, or why not."""
    if facts.open <= ZERO:
        return Verdict(None, HoldReason.PAID)
    if facts.pending_collection:
        return Verdict(None, HoldReason.PENDING)
    if facts.disputed:
        return Verdict(None, HoldReason.DISPUTED)
    if facts.stopped:
        return Verdict(None, HoldReason.STOPPED)
    if facts.last_dunned_on is not None and facts.last_dunned_on >= today:
        return Verdict(None, HoldReason.DUNNED_TODAY)
    if facts.due_date is None:
        return Verdict(None, HoldReason.WAITING)
    rule = next_rule(rules, facts.last_level)
    if rule is None:
        return Verdict(None, HoldReason.LAST_LEVEL)
    anchor = facts.due_date if facts.last_level == 0 or facts.last_dunned_on is None else facts.last_dunned_on
    reached = anchor + dt.timedelta(days=rule.days)
    if today < reached or not is_overdue(facts, today):
        return Verdict(None, HoldReason.WAITING, next_on=max(reached, facts.due_date + dt.timedelta(days=1)))
    return Verdict(rule.position)


def deadline(today: dt.date, payment_days: int) -> dt.date:
    return today + dt.timedelta(days=payment_days)
