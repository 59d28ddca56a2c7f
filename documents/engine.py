"""Document money: line nets, VAT per rate and totals (pure, no ORM).

The rules come from DESIGN.md section 4 ("Money") and from how German invoices are
checked by accountants and tax auditors:

* ``Decimal`` only, two places, ``ROUND_HALF_UP``. Floats are refused outright so that a
  ``0.1 + 0.2`` never reaches an invoice.
* Each line's net (quantity x unit price, minus the line discount in percent) is rounded
  to cents on its own, because that is the amount printed on the line and the sum of the
  printed lines must equal the printed net total.
* VAT is computed once per tax rate on the sum of the net lines of that rate, not per
  line and summed (per-line rounding drifts by cents on long invoices, and §14 (4) Nr. 8
  UStG asks for "the tax amount per rate"). The invoice prints that breakdown.
* Credit notes carry negative quantities or prices. ``ROUND_HALF_UP`` in ``decimal``
  rounds half away from zero, so ``-1.125`` becomes ``-1.13``: a credit note is the exact
  mirror of the invoice it cancels.

Nothing here touches the database; the model layer converts rows into ``LineInput`` and
stores the resulting ``Totals``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from organizations.money import DECIMAL_CONTEXT as _CONTEXT

# The rounding rule and the line net live in organizations.money: the folder's line
# tables show the same amounts, and folders sits below documents.
from organizations.money import HUNDRED, ZERO, MoneyLike, money
from organizations.money import line_net as _line_net
from organizations.money import to_decimal as _to_decimal


@dataclass(frozen=True, kw_only=True)
class LineInput:
    """One priced document line as the engine sees it.

    ``discount_percent`` and ``tax_rate`` are percentages (``Decimal("19.00")`` is 19 %).
    Ints and strings are accepted and converted; floats are refused.
    """

    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal = Decimal(0)
    tax_rate: Decimal

    def __post_init__(self) -> None:
        for name in ("quantity", "unit_price", "discount_percent", "tax_rate"):
            object.__setattr__(self, name, _to_decimal(getattr(self, name), field=name))
        if not self.quantity.is_finite() or not self.unit_price.is_finite():
            raise ValueError("quantity and unit_price must be finite numbers")
        if not Decimal(0) <= self.discount_percent <= HUNDRED:
            raise ValueError(f"discount_percent must be between 0 and 100, got {self.discount_percent}")
        if self.tax_rate < 0 or self.tax_rate >= HUNDRED:
            raise ValueError(f"tax_rate must be between 0 and 100, got {self.tax_rate}")


@dataclass(frozen=True)
class TaxGroup:
    """Net, tax and gross of all lines sharing one tax rate (rate in percent, 2 places)."""

    rate: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal


@dataclass(frozen=True)
class Totals:
    """Document totals; ``groups`` is the per-rate breakdown, highest rate first."""

    net: Decimal
    tax: Decimal
    gross: Decimal
    groups: tuple[TaxGroup, ...]


def line_net(line: LineInput) -> Decimal:
    """The line's net as printed: see ``organizations.money.line_net``."""
    return _line_net(line.quantity, line.unit_price, line.discount_percent)


def line_inputs(lines: Iterable) -> list[LineInput]:
    """The priced lines (anything with quantity, unit_price, discount_percent and tax_rate:
    document lines, line specs) as the engine's inputs; lines without a price are text."""
    return [
        LineInput(
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            tax_rate=line.tax_rate or Decimal(0),
        )
        for line in lines
        if line.unit_price is not None
    ]


def tax_for(net: Decimal, rate: Decimal) -> Decimal:
    """VAT on the net sum of one rate group, rounded to cents."""
    return money(_CONTEXT.divide(_CONTEXT.multiply(net, rate), HUNDRED))


def compute_totals(lines: Iterable[LineInput], *, reverse_charge_or_exempt: bool = False) -> Totals:
    """Sum line nets per tax rate, compute VAT per rate, and the document totals.

    With ``reverse_charge_or_exempt`` (the payer's treatment is reverse charge under
    §13b UStG, a tax-exempt supply, an intra-EU supply or an export) no German VAT is
    charged: every line is booked at 0 %, so the breakdown shows a single 0 % group with
    the full net. The document then has to print the matching note (rendering's
    ``tax_note``).
    """
    nets_by_rate: dict[Decimal, Decimal] = {}
    for line in lines:
        rate = ZERO if reverse_charge_or_exempt else money(line.tax_rate)
        nets_by_rate[rate] = nets_by_rate.get(rate, ZERO) + line_net(line)

    groups = []
    for rate in sorted(nets_by_rate, reverse=True):
        net = money(nets_by_rate[rate])
        tax = ZERO if reverse_charge_or_exempt else tax_for(net, rate)
        groups.append(TaxGroup(rate=rate, net=net, tax=tax, gross=net + tax))

    net = money(sum((g.net for g in groups), ZERO))
    tax = money(sum((g.tax for g in groups), ZERO))
    return Totals(net=net, tax=tax, gross=net + tax, groups=tuple(groups))


# --- Formatting -----------------------------------------------------------------------
# The PDF follows the customer's language, not the UI's, so these helpers take the
# language explicitly instead of relying on the active Django locale.

_SEPARATORS = {"de": (".", ","), "en": (",", ".")}


def format_number(value: MoneyLike, lang: str = "de", *, places: int | None = 2) -> str:
    """Group thousands and use the language's decimal mark.

    ``places=None`` keeps the significant decimals only (quantities: ``1,5`` and ``2``).
    """
    thousands, decimal_mark = _SEPARATORS.get(lang, _SEPARATORS["en"])
    d = _to_decimal(value)
    if places is None:
        d = d.normalize(context=_CONTEXT)
        if d == d.to_integral_value():
            d = d.quantize(Decimal(1), context=_CONTEXT)
    else:
        d = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=_CONTEXT)
    sign = "-" if d.is_signed() and d != 0 else ""
    text = f"{abs(d):f}"
    integer, _, fraction = text.partition(".")
    grouped = f"{int(integer):,}".replace(",", thousands)
    return sign + grouped + (decimal_mark + fraction if fraction else "")


def format_eur(amount: MoneyLike, lang: str = "de", *, max_places: int = 2) -> str:
    """``1.234,56 €`` in German, ``€1,234.56`` in English; negatives as ``-1.234,56 €`` / ``-€1,234.56``.

    ``max_places`` > 2 is for unit prices such as a click charge of ``0,0450 €``, which
    must not be printed as ``0,05 €`` when the line total was computed from the exact price:
    up to ``max_places`` decimals are shown, but never fewer than two.
    """
    if max_places <= 2:
        text = format_number(money(amount), lang)
    else:
        exact = _to_decimal(amount).quantize(
            Decimal(1).scaleb(-max_places), rounding=ROUND_HALF_UP, context=_CONTEXT
        )
        places = max(2, -exact.normalize(context=_CONTEXT).as_tuple().exponent) if exact else 2
        text = format_number(exact, lang, places=min(places, max_places))
    if lang == "de":
        return f"{text} €"
    if text.startswith("-"):
        return f"-€{text[1:]}"
    return f"€{text}"


def format_percent(value: MoneyLike, lang: str = "de") -> str:
    """``19 %`` (DIN 5008 puts a space before %) in German, ``19%`` in English; ``7,5 %``."""
    text = format_number(value, lang, places=None)
    return f"{text} %" if lang == "de" else f"{text}%"
