"""The one rounding rule and the one line net every app uses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from folders.selectors import folder_totals
from organizations.money import line_net, money
from tests.folders.factories import FolderFactory, RecurringLineFactory

D = Decimal


def test_it_rounds_half_cents_away_from_zero():
    assert money(D("0.025")) == D("0.03")
    assert money(D("-0.025")) == D("-0.03")
    assert money("1.125") == D("1.13")


def test_it_refuses_floats():
    with pytest.raises(TypeError):
        money(0.1)


def test_it_nets_a_line_once_rounded_with_its_discount():
    assert line_net(D("3"), D("33.33"), D("12.5")) == D("87.49")
    assert line_net(D("0.333"), D("95.00")) == D("31.64")
    assert line_net(D("-3"), D("33.33"), D("12.5")) == D("-87.49")


def test_it_rounds_the_folders_monthly_total_half_up_not_half_even(org):
    # 0.30 a year is 0.025 a month: half-even made that 0.02, the invoices' rule 0.03.
    folder = FolderFactory(organization=org)
    RecurringLineFactory(folder=folder, quantity=D("1"), unit_price=D("0.30"), cycle=12)
    assert folder_totals(folder)["monthly"] == D("0.03")
