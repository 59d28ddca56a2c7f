"""Unit codes labelled for the quantity and the language."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from catalog.units import unit_code, unit_label


@pytest.mark.parametrize(
    ("code", "quantity", "language", "label"),
    [
        ("piece", 3, "de", "Stück"),
        ("piece", 3, "en", "pieces"),
        ("piece", 1, "en", "piece"),
        ("month", 1, "de", "Monat"),
        ("month", 3, "de", "Monate"),
        ("hour", Decimal("2.5"), "de", "Std."),
        ("hour", Decimal("2.5"), "en", "hours"),
        ("year", 2, "de", "Jahre"),
        ("page", 3433, "de", "Seiten"),
        ("flat", 1, "de", "pauschal"),
        ("Karton", 2, "de", "Karton"),  # no code: shown as typed
    ],
)
def test_it_labels_a_unit_for_the_quantity_and_language(code, quantity, language, label):
    assert unit_label(code, quantity, language) == label


def test_it_labels_in_the_active_language_by_default():
    with translation.override("en"):
        assert unit_label("month", Decimal("3.000")) == "months"
    with translation.override("de"):
        assert unit_label("month", Decimal("1.000")) == "Monat"


def test_it_maps_the_stored_words_to_codes():
    assert [unit_code(word) for word in ["Stk.", "Std.", "Monat", "pauschal", "Seiten", "Karton"]] == [
        "piece",
        "hour",
        "month",
        "flat",
        "page",
        "Karton",
    ]
