"""Which VAT a document line carries for its recipient, and the printed reason why not
(pure, no ORM).

German VAT is charged unless the law names a reason not to, and the invoice has to print
that reason (§ 14 (4) Nr. 8 UStG: "einen Hinweis auf eine Steuerbefreiung"; § 14a UStG
for reverse charge, intra-EU supplies and exports). The reason depends on the recipient's
tax treatment *and* on what is supplied:

* domestic, taxable: the line's own rate; no reason to print;
* domestic, exempt: 0 %, the § 4 UStG provision chosen for the customer (a treatment
  without its provision has no reason, so its lines cannot be issued);
* EU business: goods are a tax-free intra-Community supply (§ 4 Nr. 1b i. V. m. § 6a UStG),
  services fall under the reverse charge (§ 13b UStG, Art. 196 MwStSystRL);
* third country: goods are a tax-free export (§ 4 Nr. 1a i. V. m. § 6 UStG), B2B services
  are not taxable in Germany (§ 3a Abs. 2 UStG);
* the issuer a small business (§ 19 UStG, an organization setting): 0 % and its note,
  whoever the recipient is;
* needs review (an old "not VAT liable" tick without a reason): charged like a domestic
  sale here, and refused at issuing until someone chooses the treatment.

`line_tax` is that rule, the only place that decides it: single and bulk issuing, the
billing run's preview and the tax note all ask it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from organizations.money import ZERO, money

# The values of customers.models.TaxTreatment (copied onto every document).
DOMESTIC = "domestic"
EXEMPT = "exempt"
EU_REVERSE_CHARGE = "eu_reverse_charge"
NON_EU = "non_eu"
NEEDS_REVIEW = "needs_review"

# Reasons that need both VAT IDs printed beside them (§ 14a (1) and (3) UStG).
VAT_ID_REASONS = frozenset({"eu_goods", "eu_services"})


@dataclass(frozen=True)
class LineTax:
    """The rate a line is charged, and the key of the printed reason when it is no German
    VAT ("" when VAT is charged - or when a reason is missing, which issuing refuses)."""

    rate: Decimal
    reason: str = ""


def line_tax(
    *,
    treatment: str,
    rate: Decimal | int | str | None,
    goods: bool,
    exemption: str = "",
    small_business: bool = False,
) -> LineTax:
    """The VAT of one priced line for a recipient with this treatment (see the module).

    An issuer that is a small business (§ 19 UStG) charges no VAT to anybody, whatever
    the recipient's treatment: its own status is the reason printed.
    """
    if small_business:
        return LineTax(ZERO, "small_business")
    if treatment == EXEMPT:
        return LineTax(ZERO, f"exempt_{exemption}" if exemption else "")
    if treatment == EU_REVERSE_CHARGE:
        return LineTax(ZERO, "eu_goods" if goods else "eu_services")
    if treatment == NON_EU:
        return LineTax(ZERO, "export_goods" if goods else "non_eu_services")
    return LineTax(money(rate or 0))


def _taxes(lines: Iterable, **recipient) -> Iterator[tuple[int, LineTax]]:
    for line in lines:
        yield line.position, line_tax(rate=line.tax_rate, goods=line.goods, **recipient)


def reasons_by_position(
    lines: Iterable, *, treatment: str, exemption: str = "", small_business: bool = False
) -> list[tuple[str, list[int]]]:
    """The printed reasons of the priced lines (each with ``position``, ``tax_rate``,
    ``goods``), each with the positions it covers, in the order they first appear."""
    grouped: dict[str, list[int]] = {}
    for position, tax in _taxes(
        lines, treatment=treatment, exemption=exemption, small_business=small_business
    ):
        if tax.reason:
            grouped.setdefault(tax.reason, []).append(position)
    return list(grouped.items())


def unexplained_zero_positions(
    lines: Iterable, *, treatment: str, exemption: str = "", small_business: bool = False
) -> list[int]:
    """Positions of priced lines at 0 % with no printed reason: an invoice must not say
    "no VAT" without saying why."""
    return [
        position
        for position, tax in _taxes(
            lines, treatment=treatment, exemption=exemption, small_business=small_business
        )
        if tax.rate == ZERO and not tax.reason
    ]
