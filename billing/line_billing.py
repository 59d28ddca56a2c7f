"""One recurring line in a run: its terms as the engine reads them, what it owes
(`bill_line`, billing.engine.due_charges on the history narrowed by billing.history) and
the invoice line that shows each charge (`charge_spec`). Reads nothing from the database:
the lines, their changes and their charges come loaded (billing.loading).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from catalog.models import Unit
from catalog.units import unit_label
from documents import texts as doc_texts
from documents.engine import format_number
from documents.models import LineSource
from documents.services import LineSpec
from folders.models import Folder, RecurringLine
from folders.selectors import recurring_line_end, segments_from
from organizations.money import line_net

from . import engine
from . import texts as billing_texts
from .history import settle_through

UNIT_PRICE_PLACES = Decimal("0.0001")


@dataclass
class LineBilling:
    """What a run does to one recurring line: its new charges and billed_through."""

    line: RecurringLine
    charges: list[engine.Charge]
    terms_version: int
    billed_through: dt.date | None  # the new value (never earlier than the stored one)
    # Set on a line's first run after it was taken over from an earlier system (billed
    # through a day, no charges of ours): the run records that day as billed elsewhere.
    taken_over_through: dt.date | None = None


class ChangeRow(NamedTuple):
    """A RecurringLineChange as the run reads it (in bulk, one query per chunk)."""

    id: int
    effective_from: dt.date
    quantity: Decimal
    unit_price: Decimal
    previous_quantity: Decimal
    previous_unit_price: Decimal


CHANGE_FIELDS = ("id", "effective_from", "quantity", "unit_price", "previous_quantity", "previous_unit_price")


def segments_of(line: RecurringLine, changes: Sequence[ChangeRow]) -> list[dict]:
    """The versions of quantity and price, from change rows read in bulk for the run."""
    return segments_from(line, changes)


def effective_billing_day(folder: Folder, organization) -> int:
    """The day of the month the folder's periods start on: its own, else the
    organization's, kept within 1..28."""
    day = folder.billing_day or organization.billing_day or 1
    return min(max(int(day), 1), 28)


def _billed(row) -> engine.BilledCharge:
    return engine.BilledCharge(
        period_start=row["period_start"],
        kind=row["kind"],
        service_start=row["service_start"],
        service_end=row["service_end"],
        quantity=row["quantity"],
        unit_price=row["unit_price"],
        amount=row["amount"],
        period_end=row.get("period_end"),
    )


def is_billing(kind: str) -> bool:
    """Charges that bill days (and move billed_through), as opposed to credits and setup."""
    return kind == engine.PERIOD or kind.startswith(engine.CHANGE_CHARGE_PREFIX)


# --- the engine, per line ---------------------------------------------------------------


def line_terms(line: RecurringLine, changes: Sequence[ChangeRow]) -> engine.LineTerms:
    segments = segments_of(line, changes)
    return engine.LineTerms(
        cycle=engine.Cycle(line.cycle),
        timing=engine.Timing(line.timing),
        start=line.start_date,
        end=recurring_line_end(line),
        segments=tuple(engine.Segment(**s) for s in segments),
        trial_end=line.trial_end,
        setup_fee=line.setup_fee,
        billing_day=effective_billing_day(line.folder, line.folder.organization),
    )


def bill_line(
    line: RecurringLine,
    *,
    period: dt.date,
    rows: list[dict],
    changes: Sequence[ChangeRow],
    settled: dt.date | None,
    arrears_cutoff: dt.date | None = None,
) -> LineBilling:
    """What `line` owes in the run for `period` (raises engine.BillingConflict);
    `arrears_cutoff`: see `arrears_cutoff`."""
    terms = line_terms(line, changes)
    taken_over = (
        line.billed_elsewhere_through is None
        and line.billed_through is not None
        and not any(is_billing(r["kind"]) for r in rows)
    )
    if taken_over or line.billed_elsewhere_through is not None:
        # Taken over from an earlier system, which billed the setup fee.
        terms = replace(terms, setup_fee=Decimal("0"))
    narrowed, history = settle_through(terms, [_billed(r) for r in rows], settled)
    charges = engine.due_charges(narrowed, run_month=period, billed=history, arrears_cutoff=arrears_cutoff)
    through = line.billed_through
    for charge in charges:
        if is_billing(charge.kind) and (through is None or charge.service_end > through):
            through = charge.service_end
    version = max((c.id for c in changes), default=0)
    return LineBilling(
        line=line,
        charges=charges,
        terms_version=version,
        billed_through=through,
        taken_over_through=line.billed_through if taken_over else None,
    )


# --- invoice lines -------------------------------------------------------------------------


def split_description(text: str) -> tuple[str, str]:
    head, _sep, rest = (text or "").strip().partition("\n")
    return head.strip(), rest.strip()


def _join(*parts: str) -> str:
    return "\n".join(p for p in parts if p)


def charge_spec(line: RecurringLine, charge: engine.Charge, language: str, group_title: str) -> LineSpec:
    """The invoice line for one charge: the line's text, the days it covers and why.

    A prorated charge shows the price of its days as unit price (4 places), so that
    quantity x unit price = the charge, to the cent; should the rounding ever disagree
    (very large quantities) it is printed as one lump sum naming the quantity.
    """
    title, rest = split_description(line.description)
    days = engine.days_in(charge.service_start, charge.service_end)
    period_days = engine.days_in(charge.period_start, charge.period_end)
    reason = (
        billing_texts.text(
            language,
            charge.description,
            days=days,
            period_days=period_days,
            start=doc_texts.date(language, charge.service_start),
        )
        if charge.description in billing_texts.TEXTS["de"]
        else ""
    )
    unit = line.unit  # a code; labelled where it is shown (catalog.units)
    common = {
        "tax_rate": line.tax_rate.rate,
        "sku": line.product.sku if line.product_id else "",
        "source_kind": LineSource.RECURRING,
        "source_line_id": line.pk,
        "source_folder_id": line.folder_id,
        "group_title": group_title,
        "service_start": charge.service_start,
        "service_end": charge.service_end,
    }
    if charge.kind == engine.SETUP:
        return LineSpec(
            description=billing_texts.text(language, "setup_title", title=title),
            quantity=Decimal("1"),
            unit=Unit.FLAT,
            unit_price=charge.amount,
            **common,
        )
    period_text = billing_texts.period(language, charge.service_start, charge.service_end)
    quantity, unit_price = charge.quantity, charge.unit_price
    price_text = ""
    if (charge.service_start, charge.service_end) != (charge.period_start, charge.period_end) and quantity:
        price_text = billing_texts.text(
            language, "period_price", price=doc_texts.eur(language, charge.unit_price)
        )
        unit_price = (charge.amount / quantity).quantize(UNIT_PRICE_PLACES, rounding=ROUND_HALF_UP)
        if line_net(quantity, unit_price) != charge.amount:
            price_text = _join(
                price_text,
                billing_texts.text(
                    language,
                    "flat_quantity",
                    quantity=_qty(quantity, language),
                    unit=unit_label(unit, quantity, language),
                ),
            )
            quantity = Decimal("1") if charge.amount >= 0 else Decimal("-1")
            unit_price = abs(charge.amount)
            unit = Unit.FLAT
    return LineSpec(
        description=title,
        detail=_join(rest, period_text, reason, price_text),
        quantity=quantity,
        unit=unit,
        unit_price=unit_price,
        cycle=line.cycle,
        **common,
    )


def _qty(quantity: Decimal, language: str) -> str:
    return format_number(quantity, doc_texts.lang_of(language), places=None)
