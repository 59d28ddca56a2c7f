"""Response-time arithmetic of support tickets: pure functions, no database.

Guarantees are counted in calendar hours (around the clock, weekends and holidays
included). That is what a "4-hour response" hotline contract promises literally, it is the
same in every time zone, and a due time can be shown and checked without a business
calendar. An organization that promises business hours would need a calendar here; the
due times are stored on the ticket, so a later change of rule does not move old tickets.

A ticket is "about to breach" when less than a quarter of its window is left, or less
than two hours, whichever comes first; "in breach" when the due time passed before the
measured event (first staff reply, resolution) happened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

AT_RISK_SHARE = 0.25
AT_RISK_ABSOLUTE = dt.timedelta(hours=2)

# States of one measured window (first response or resolution).
NONE = "none"  # no guarantee
MET = "met"  # happened in time
OK = "ok"  # running, plenty of time left
AT_RISK = "at_risk"  # running, about to breach
BREACHED = "breached"  # due time passed (whether or not it happened since)


@dataclass(frozen=True)
class Guarantee:
    """The promise a ticket is measured against; hours None = no promise."""

    response_hours: int | None = None
    resolution_hours: int | None = None
    source: str = ""


def strictest(guarantees: Iterable[Guarantee]) -> Guarantee:
    """The shortest response and the shortest resolution time among several contracts
    (each taken on its own: one package may promise the faster reply, another the faster
    fix). The source names the package of the response time, or else of the resolution."""
    response: tuple[int, str] | None = None
    resolution: tuple[int, str] | None = None
    for g in guarantees:
        if g.response_hours and (response is None or g.response_hours < response[0]):
            response = (g.response_hours, g.source)
        if g.resolution_hours and (resolution is None or g.resolution_hours < resolution[0]):
            resolution = (g.resolution_hours, g.source)
    return Guarantee(
        response_hours=response[0] if response else None,
        resolution_hours=resolution[0] if resolution else None,
        source=(response or resolution or (0, ""))[1],
    )


def due_at(start: dt.datetime, hours: int | None) -> dt.datetime | None:
    if not hours:
        return None
    return start + dt.timedelta(hours=hours)


def window_state(
    *, opened_at: dt.datetime, due: dt.datetime | None, done_at: dt.datetime | None, now: dt.datetime
) -> str:
    """Where one window stands at `now`."""
    if due is None:
        return NONE
    if done_at is not None:
        return MET if done_at <= due else BREACHED
    if now > due:
        return BREACHED
    left = due - now
    if left < AT_RISK_ABSOLUTE or left < (due - opened_at) * AT_RISK_SHARE:
        return AT_RISK
    return OK


SEVERITY = {NONE: 0, MET: 0, OK: 1, AT_RISK: 2, BREACHED: 3}


def worst(*states: str) -> str:
    return max(states, key=lambda s: SEVERITY[s])
