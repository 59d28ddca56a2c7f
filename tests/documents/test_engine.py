from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from documents.engine import (
    LineInput,
    TaxGroup,
    Totals,
    compute_totals,
    format_eur,
    format_number,
    format_percent,
    line_net,
    money,
)

D = Decimal


def line(qty: str, price: str, rate: str = "19.00", discount: str = "0") -> LineInput:
    return LineInput(quantity=D(qty), unit_price=D(price), discount_percent=D(discount), tax_rate=D(rate))


# --- money and line nets ----------------------------------------------------------------


def test_it_rounds_half_up_symmetrically_for_credit_notes():
    assert money(D("1.125")) == D("1.13")
    assert money(D("-1.125")) == D("-1.13")
    assert money(D("0.005")) == D("0.01")
    assert money(D("-0.005")) == D("-0.01")
    assert money(D("2.674999")) == D("2.67")
    assert money(5) == D("5.00")
    assert money("3.1") == D("3.10")


def test_it_refuses_floats_near_money():
    with pytest.raises(TypeError):
        money(0.1)
    with pytest.raises(TypeError):
        LineInput(quantity=1.0, unit_price=D("1"), tax_rate=D("19"))


def test_it_converts_ints_and_strings_in_line_input():
    li = LineInput(quantity=2, unit_price="9.99", tax_rate="19")
    assert li.quantity == D(2) and li.unit_price == D("9.99") and li.discount_percent == D(0)
    assert line_net(li) == D("19.98")


def test_it_refuses_impossible_discounts_and_rates():
    with pytest.raises(ValueError):
        line("1", "10", discount="101")
    with pytest.raises(ValueError):
        line("1", "10", discount="-1")
    with pytest.raises(ValueError):
        line("1", "10", rate="-7")


def test_it_rounds_each_line_once_after_the_discount():
    # 3 x 33.33 = 99.99; minus 12.5 % = 87.49125 -> 87.49
    assert line_net(line("3", "33.33", discount="12.5")) == D("87.49")
    # 0.333 h x 95.00 = 31.635 -> 31.64 (half up)
    assert line_net(line("0.333", "95.00")) == D("31.64")
    # full discount is a free line, not an error
    assert line_net(line("2", "50", discount="100")) == D("0.00")


def test_it_rounds_negative_lines_as_the_mirror_of_positive_ones():
    assert line_net(line("-0.333", "95.00")) == D("-31.64")
    assert line_net(line("0.333", "-95.00")) == D("-31.64")
    assert line_net(line("-3", "33.33", discount="12.5")) == -line_net(line("3", "33.33", discount="12.5"))


# --- totals -----------------------------------------------------------------------------


def test_it_computes_vat_per_rate_on_the_summed_nets():
    totals = compute_totals(
        [
            line("2", "499.00"),  # 998.00 @19
            line("1", "12.34", rate="7.00"),  # 12.34 @7
            line("3", "0.35"),  # 1.05 @19
            line("1", "10.00", rate="7", discount="10"),  # 9.00 @7
        ]
    )
    assert totals == Totals(
        net=D("1020.39"),
        tax=D("191.31"),
        gross=D("1211.70"),
        groups=(
            TaxGroup(rate=D("19.00"), net=D("999.05"), tax=D("189.82"), gross=D("1188.87")),
            TaxGroup(rate=D("7.00"), net=D("21.34"), tax=D("1.49"), gross=D("22.83")),
        ),
    )


def test_it_differs_from_summing_per_line_tax_the_german_way():
    # Three lines of 0.03 at 19 %: tax per line would be 3 x round(0.0057) = 0.03,
    # tax on the rate's sum is round(0.09 x 19 %) = round(0.0171) = 0.02.
    totals = compute_totals([line("1", "0.03")] * 3)
    assert totals.groups[0].net == D("0.09")
    assert totals.tax == D("0.02")


def test_it_merges_equal_rates_written_differently():
    totals = compute_totals([line("1", "100", rate="19"), line("1", "100", rate="19.00")])
    assert len(totals.groups) == 1
    assert totals.groups[0].rate == D("19.00")
    assert totals.tax == D("38.00")


def test_it_charges_no_vat_for_reverse_charge_but_keeps_the_net_breakdown():
    totals = compute_totals(
        [line("2", "499.00"), line("1", "12.34", rate="7.00")], reverse_charge_or_exempt=True
    )
    assert totals == Totals(
        net=D("1010.34"),
        tax=D("0.00"),
        gross=D("1010.34"),
        groups=(TaxGroup(rate=D("0.00"), net=D("1010.34"), tax=D("0.00"), gross=D("1010.34")),),
    )


def test_it_mirrors_an_invoice_in_its_credit_note():
    invoice = [line("2", "499.00"), line("0.333", "95.00"), line("1", "12.34", rate="7")]
    credit = [line(str(-li.quantity), str(li.unit_price), str(li.tax_rate)) for li in invoice]
    a, b = compute_totals(invoice), compute_totals(credit)
    assert (b.net, b.tax, b.gross) == (-a.net, -a.tax, -a.gross)
    assert [(g.rate, -g.net, -g.tax) for g in b.groups] == [(g.rate, g.net, g.tax) for g in a.groups]


def test_it_returns_zero_totals_for_no_lines():
    assert compute_totals([]) == Totals(net=D("0.00"), tax=D("0.00"), gross=D("0.00"), groups=())


# --- properties -------------------------------------------------------------------------

rates = st.sampled_from([D("19.00"), D("7.00"), D("0.00"), D("16"), D("5"), D("10.7")])
quantities = st.decimals(min_value=-10_000, max_value=10_000, places=3, allow_nan=False, allow_infinity=False)
prices = st.decimals(min_value=-100_000, max_value=100_000, places=4, allow_nan=False, allow_infinity=False)
discounts = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
line_inputs = st.builds(
    LineInput, quantity=quantities, unit_price=prices, discount_percent=discounts, tax_rate=rates
)


@settings(max_examples=200, deadline=None)
@given(st.lists(line_inputs, max_size=30), st.booleans())
def test_totals_are_consistent_for_any_mix_of_lines(lines, reverse_charge):
    totals = compute_totals(lines, reverse_charge_or_exempt=reverse_charge)

    assert totals.net == sum((line_net(li) for li in lines), D("0.00"))
    assert totals.net == sum((g.net for g in totals.groups), D("0.00"))
    assert totals.tax == sum((g.tax for g in totals.groups), D("0.00"))
    assert totals.gross == totals.net + totals.tax
    assert len({g.rate for g in totals.groups}) == len(totals.groups)
    for group in totals.groups:
        assert group.net + group.tax == group.gross
        assert group.tax == (group.net * group.rate / 100).quantize(D("0.01"), rounding=ROUND_HALF_UP)
        expected_net = sum(
            (line_net(li) for li in lines if reverse_charge or li.tax_rate == group.rate), D("0.00")
        )
        assert group.net == expected_net
        if reverse_charge:
            assert group.rate == 0 and group.tax == 0
    for amount in (totals.net, totals.tax, totals.gross):
        assert amount.as_tuple().exponent == -2


@settings(max_examples=200, deadline=None)
@given(line_inputs)
def test_line_net_is_exact_value_rounded_half_up_and_symmetric(li):
    exact = li.quantity * li.unit_price * (100 - li.discount_percent) / 100
    assert abs(line_net(li) - exact) <= D("0.005")
    negated = LineInput(
        quantity=-li.quantity,
        unit_price=li.unit_price,
        discount_percent=li.discount_percent,
        tax_rate=li.tax_rate,
    )
    assert line_net(negated) == -line_net(li)


# --- formatting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "lang", "expected"),
    [
        (D("1234.56"), "de", "1.234,56 €"),
        (D("1234.56"), "en", "€1,234.56"),
        (D("0"), "de", "0,00 €"),
        (D("-1234.5"), "de", "-1.234,50 €"),
        (D("-1234.5"), "en", "-€1,234.50"),
        (D("1234567.891"), "de", "1.234.567,89 €"),
        (D("-0.004"), "de", "0,00 €"),
        (D("999.995"), "en", "€1,000.00"),
    ],
)
def test_it_formats_euros_per_language(amount, lang, expected):
    assert format_eur(amount, lang) == expected


def test_it_formats_quantities_and_percentages():
    assert format_number(D("1.500"), "de", places=None) == "1,5"
    assert format_number(D("2.000"), "de", places=None) == "2"
    assert format_number(D("1200"), "de", places=None) == "1.200"
    assert format_number(D("1200"), "en", places=None) == "1,200"
    assert format_number(D("-0.25"), "en", places=None) == "-0.25"
    assert format_percent(D("19.00"), "de") == "19 %"
    assert format_percent(D("7.50"), "de") == "7,5 %"
    assert format_percent(D("19.00"), "en") == "19%"
