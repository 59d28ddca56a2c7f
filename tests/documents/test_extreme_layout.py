"""A document with the longest texts the forms allow and nine-digit amounts keeps every word
inside the page and every column apart (word boxes read with pdfplumber)."""

from __future__ import annotations

import io
from dataclasses import replace

import pdfplumber
import pytest

from bench.samples import priced_lines, sample_document
from documents.rendering import Party, render_pdf
from organizations.forms import LINE_MAX_LENGTH, TEXT_MAX_LENGTH

pytestmark = pytest.mark.slow

MM = 72 / 25.4


def extreme_document():
    word = "Seriennummernliste" * (LINE_MAX_LENGTH // 18)
    lines, totals = priced_lines(
        [
            (
                word[:LINE_MAX_LENGTH],
                "A7PU" * (TEXT_MAX_LENGTH // 40),
                "1",
                "Stk.",
                "123456789.00",
                "0",
                "19.00",
            ),
            (
                "Wartungspauschale",
                "Leistungszeitraum 01.11.2026 – 30.11.2026",
                "3",
                "Monat",
                "9876543.21",
                "0",
                "7.00",
            ),
            ("https://example.invalid/" + "x" * 400, "", "1", "Stk.", "0.01", "0", "19.00"),
        ]
    )
    doc = sample_document()
    recipient = Party(
        name="Gesellschaft" * 16,
        contact_name="Frau " + "Dr." * 30,
        address_lines=("Straße" * 30 + " 1", "10117 Berlin"),
        customer_number="K-10023",
    )
    return replace(
        doc,
        lines=lines,
        totals=totals,
        recipient=recipient,
        intro_text="Einleitung" * (TEXT_MAX_LENGTH // 100),
    )


@pytest.fixture(scope="module")
def pages():
    with pdfplumber.open(io.BytesIO(render_pdf(extreme_document()))) as pdf:
        yield [(page.width, page.height, page.extract_words(keep_blank_chars=False)) for page in pdf.pages]


def test_every_word_stays_inside_the_page_margins(pages):
    outside = []
    for number, (width, height, words) in enumerate(pages, start=1):
        for word in words:
            # The text column runs from 25 mm to 190 mm; fold and punch marks sit in the margin
            # but carry no text.
            if word["x0"] < 20 * MM - 1 or word["x1"] > width - 20 * MM + 1 or word["bottom"] > height:
                outside.append((number, word["text"][:30], round(word["x0"]), round(word["x1"])))
    assert not outside, outside


def test_no_two_words_on_one_line_overlap(pages):
    overlaps = []
    for number, (_width, _height, words) in enumerate(pages, start=1):
        for i, a in enumerate(words):
            for b in words[i + 1 :]:
                same_line = a["top"] < b["bottom"] - 1 and b["top"] < a["bottom"] - 1
                if same_line and a["x0"] < b["x1"] - 0.5 and b["x0"] < a["x1"] - 0.5:
                    overlaps.append((number, a["text"][:20], b["text"][:20]))
    assert not overlaps, overlaps


def test_the_nine_digit_amounts_are_printed_whole(pages):
    text = " ".join(w["text"] for _w, _h, words in pages for w in words)
    assert "123.456.789,00" in text
    assert "29.629.629,63" in text
