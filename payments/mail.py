"""The e-mail a payer gets when money of theirs arrived, from the organization's template."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage

from documents import texts
from organizations.placeholders import fill_placeholders, placeholder_problems

PLACEHOLDERS = ("number", "amount", "date", "open", "payer", "organization")

DEFAULT_SUBJECTS = {
    "de": "Zahlungseingang {amount} – {organization}",
    "en": "Payment received: {amount} – {organization}",
}
DEFAULT_BODIES = {
    "de": (
        "Guten Tag,\n\nvielen Dank für Ihre Zahlung über {amount} vom {date}.\n"
        "Wir haben sie verbucht auf: {number}.\n"
        "Offen sind bei uns noch: {open}.\n\nMit freundlichen Grüßen\n{organization}\n"
    ),
    "en": (
        "Hello,\n\nthank you for your payment of {amount} on {date}.\n"
        "We have applied it to: {number}.\n"
        "Still open with us: {open}.\n\nKind regards\n{organization}\n"
    ),
}
NOTHING_APPLIED = {"de": "Ihr Guthaben", "en": "your credit balance"}


def template_problems(text: str) -> list[str]:
    """Placeholders the template uses that we cannot fill (or broken braces)."""
    return placeholder_problems(text, PLACEHOLDERS)


def render(template: str, values: dict[str, str]) -> str:
    return fill_placeholders(template, values)


def build_message(
    *,
    mail_settings,
    language: str,
    recipients: list[str],
    amount: Decimal,
    date,
    numbers: list[str],
    open_amount: Decimal,
    payer_name: str,
    organization_name: str,
    reply_to: str = "",
) -> EmailMessage:
    lang = texts.lang_of(language)
    values = {
        "number": ", ".join(numbers) if numbers else NOTHING_APPLIED[lang],
        "amount": texts.eur(lang, amount),
        "date": texts.date(lang, date),
        "open": texts.eur(lang, max(open_amount, Decimal("0.00"))),
        "payer": payer_name,
        "organization": organization_name,
    }
    subject = render(mail_settings.subject or DEFAULT_SUBJECTS[lang], values)
    body = render(mail_settings.body or DEFAULT_BODIES[lang], values)
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        reply_to=[reply_to] if reply_to else None,
    )
