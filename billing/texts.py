"""What a billed charge says on the invoice, in the payer's language.

Like documents.texts these are plain dicts keyed by language, not gettext: the invoice
is frozen in the customer's language whatever the UI language of the run (a Celery
worker bills German and English customers one after the other).
"""

from __future__ import annotations

from documents import texts as doc_texts

from . import engine

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        engine.REASON_FULL: "",
        engine.REASON_PRORATED: "anteilig {days} von {period_days} Tagen",
        engine.REASON_TRIAL: "nach der Testphase, anteilig {days} von {period_days} Tagen",
        engine.REASON_CHANGE: "geänderte Menge/Preis ab {start}, anteilig {days} von {period_days} Tagen",
        engine.REASON_CHANGE_CREDIT: "Gutschrift des bisher berechneten Stands, anteilig {days} von {period_days} Tagen",
        engine.REASON_END_CREDIT: "Gutschrift für die Zeit nach dem Leistungsende, {days} von {period_days} Tagen",
        engine.REASON_SETUP: "",
        "setup_title": "Einrichtung: {title}",
        "period_price": "Preis je Zeitraum {price}",
        "flat_quantity": "Menge {quantity} {unit}",
    },
    "en": {
        engine.REASON_FULL: "",
        engine.REASON_PRORATED: "prorated, {days} of {period_days} days",
        engine.REASON_TRIAL: "after the trial, prorated, {days} of {period_days} days",
        engine.REASON_CHANGE: "changed quantity/price from {start}, prorated, {days} of {period_days} days",
        engine.REASON_CHANGE_CREDIT: "credit for the previously billed version, {days} of {period_days} days",
        engine.REASON_END_CREDIT: "credit for the time after the end of service, {days} of {period_days} days",
        engine.REASON_SETUP: "",
        "setup_title": "Setup: {title}",
        "period_price": "price per period {price}",
        "flat_quantity": "quantity {quantity} {unit}",
    },
}


def text(language: str, key: str, **values) -> str:
    return TEXTS[doc_texts.lang_of(language)][key].format(**values)


def period(language: str, start, end) -> str:
    return doc_texts.text(
        language, "period", start=doc_texts.date(language, start), end=doc_texts.date(language, end)
    )
