"""When a one-off line counts as delivered (folders.delivery): pure, on unsaved rows."""

from __future__ import annotations

import datetime as dt

from folders.delivery import LineDelivery, oneoff_deliveries
from folders.models import Equipment, OneOffLine

D1, D2 = dt.date(2026, 11, 20), dt.date(2026, 11, 23)


def _line(pk: int, *, equipment: bool, delivered_on=None, note=None) -> OneOffLine:
    return OneOffLine(
        pk=pk, is_equipment=equipment, delivered_on=delivered_on, delivery_document_id=note, description="x"
    )


def _pieces(*days) -> list[Equipment]:
    return [Equipment(piece=i + 1, delivered_on=day) for i, day in enumerate(days)]


def test_an_equipment_line_is_delivered_when_every_piece_is():
    lines = [_line(1, equipment=True)]
    assert oneoff_deliveries(lines, {1: _pieces(D1, None)})[1] == LineDelivery(False)
    assert oneoff_deliveries(lines, {1: _pieces(D2, D1)})[1] == LineDelivery(True, D1, D2)


def test_an_installation_waits_for_the_equipment_and_takes_its_last_day():
    hardware, setup = _line(1, equipment=True), _line(2, equipment=False)
    waiting = oneoff_deliveries([hardware, setup], {1: _pieces(D1, None)})
    assert waiting[2] == LineDelivery(False)
    done = oneoff_deliveries([hardware, setup], {1: _pieces(D1, D2)})
    assert done[2] == LineDelivery(True, D2, D2)


def test_an_installation_with_its_own_date_or_without_equipment_is_delivered():
    own = oneoff_deliveries(
        [_line(1, equipment=True), _line(2, equipment=False, delivered_on=D1)], {1: _pieces(None)}
    )
    assert own[2] == LineDelivery(True, D1, D1)
    alone = oneoff_deliveries([_line(3, equipment=False)], {})
    assert alone[3] == LineDelivery(True, None, None)
