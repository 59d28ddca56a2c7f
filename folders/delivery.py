"""When a one-off line counts as delivered - decided here and nowhere else.

A leasing company pays against the delivery (formal proof before payment), and §14 Abs. 4
Nr. 6 UStG wants the date of supply on the invoice. So an invoice for one-off lines
waits for their delivery and prints its date. The rule:

- An equipment line is delivered when every one of its pieces has a delivery date
  (issuing a delivery note sets it; a user allowed to may type it in the folder) or the
  line itself is on a delivery note. Its date of supply is the day its pieces were
  delivered, or the range of days when they came on different days.
- A line without pieces (installation, set-up, delivery flat rate) is performed with the
  equipment it belongs to: it is delivered once every equipment line of the same batch
  is, on the last of their days. Its own delivery date, when one was recorded, wins.
  Without any equipment to wait for, it is a service performed on its own: it counts as
  delivered, with no date of its own (the invoice then states its issue date, as before).

Plain function over loaded rows (no queries), so the billing run and "invoice one-off
now" share it without loading anything twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .models import Equipment, OneOffLine


@dataclass(frozen=True)
class LineDelivery:
    delivered: bool
    first: dt.date | None = None  # first and last day of supply (None: no date recorded)
    last: dt.date | None = None


def _equipment_delivery(line: OneOffLine, pieces: Sequence[Equipment]) -> LineDelivery:
    days = [p.delivered_on for p in pieces if p.delivered_on]
    if pieces and len(days) == len(pieces):
        return LineDelivery(True, min(days), max(days))
    if line.delivery_document_id is not None or line.delivered_on is not None:
        # On a delivery note as a whole: its date covers the pieces without one.
        if line.delivered_on is not None and len(days) < len(pieces):
            days.append(line.delivered_on)
        return LineDelivery(True, min(days, default=None), max(days, default=None))
    return LineDelivery(False)


def oneoff_deliveries(
    lines: Sequence[OneOffLine], pieces: Mapping[int, Sequence[Equipment]]
) -> dict[int, LineDelivery]:
    """{line id: LineDelivery} for one folder's one-off lines still to invoice;
    `pieces` maps a line id to its Equipment rows."""
    result: dict[int, LineDelivery] = {}
    for line in lines:
        if line.is_equipment:
            result[line.pk] = _equipment_delivery(line, pieces.get(line.pk, ()))
    equipment = list(result.values())
    waiting = any(not d.delivered for d in equipment)
    last = max((d.last for d in equipment if d.last), default=None)
    for line in lines:
        if line.is_equipment:
            continue
        if line.delivered_on is not None:
            result[line.pk] = LineDelivery(True, line.delivered_on, line.delivered_on)
        elif waiting:
            result[line.pk] = LineDelivery(False)
        else:
            result[line.pk] = LineDelivery(True, last, last)
    return result
