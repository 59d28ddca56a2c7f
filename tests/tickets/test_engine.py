"""The response-time arithmetic: calendar hours, about to breach, in breach, the strictest
of several packages."""

from __future__ import annotations

import datetime as dt

from tickets import engine
from tickets.engine import Guarantee

T0 = dt.datetime(2026, 12, 4, 16, 0, tzinfo=dt.UTC)  # a Friday afternoon
H = dt.timedelta(hours=1)


def state(hours, *, after, done_after=None):
    due = engine.due_at(T0, hours)
    done = T0 + done_after * H if done_after is not None else None
    return engine.window_state(opened_at=T0, due=due, done_at=done, now=T0 + after * H)


def test_it_counts_calendar_hours_over_the_weekend():
    assert engine.due_at(T0, 24) == dt.datetime(2026, 12, 5, 16, 0, tzinfo=dt.UTC)
    assert engine.due_at(T0, None) is None


def test_it_is_ok_while_plenty_of_time_is_left():
    assert state(24, after=10) == engine.OK


def test_it_is_about_to_breach_with_less_than_a_quarter_left():
    # 24 h window: a quarter is 6 h, more than the 2 h floor.
    assert state(24, after=17.9) == engine.OK
    assert state(24, after=18.1) == engine.AT_RISK


def test_it_is_about_to_breach_with_less_than_two_hours_left():
    # 4 h window: a quarter would be 1 h, but less than 2 h left already counts.
    assert state(4, after=1.9) == engine.OK
    assert state(4, after=2.1) == engine.AT_RISK


def test_it_is_in_breach_once_the_due_time_passed_unanswered():
    assert state(4, after=4.01) == engine.BREACHED


def test_it_tells_met_from_breached_when_the_event_happened():
    assert state(4, after=10, done_after=3) == engine.MET
    assert state(4, after=10, done_after=5) == engine.BREACHED


def test_it_has_no_state_without_a_guarantee():
    assert state(None, after=100) == engine.NONE


def test_it_takes_the_strictest_response_and_resolution_separately():
    best = engine.strictest(
        [
            Guarantee(response_hours=8, resolution_hours=24, source="Basis"),
            Guarantee(response_hours=4, resolution_hours=72, source="Hotline"),
            Guarantee(response_hours=None, resolution_hours=None, source="Leer"),
        ]
    )
    assert (best.response_hours, best.resolution_hours, best.source) == (4, 24, "Hotline")
    assert engine.strictest([]) == Guarantee()


def test_worst_orders_breach_over_risk_over_ok():
    assert engine.worst(engine.OK, engine.BREACHED, engine.AT_RISK) == engine.BREACHED
    assert engine.worst(engine.MET, engine.NONE) in (engine.MET, engine.NONE)
