"""One numbering service for every number range of an organization.

Call `number_next` inside the transaction that stores the numbered record: the sequence
row stays locked until that transaction ends, which serialises concurrent issuers and
makes a rollback return the number.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import NumberFormat, NumberSequence, Organization

# Defaults when an organization has not configured a pattern for a kind.
DEFAULT_PATTERNS: dict[str, str] = {
    "customer": "K{counter:05}",
    "folder": "O{counter:06}",
    "quote": "AN-{year}-{counter:04}",
    "invoice": "RE-{year}-{counter:06}",
    "credit_note": "GS-{year}-{counter:06}",
    "delivery_note": "LS-{year}-{counter:04}",
    "dunning_letter": "MA-{year}-{counter:05}",
}

KIND_LABELS = {
    "customer": _("Customers"),
    "folder": _("Folders"),
    "quote": _("Quotes"),
    "invoice": _("Invoices"),
    "credit_note": _("Credit notes"),
    "delivery_note": _("Delivery notes"),
    "dunning_letter": _("Dunning letters"),
}

_PLACEHOLDER = re.compile(r"\{(year|counter)(?::0?(\d+))?\}")


def pattern_is_valid(pattern: str) -> bool:
    """One {counter} (optionally zero-padded, {counter:06}), at most one {year}, no other braces."""
    found = list(_PLACEHOLDER.finditer(pattern))
    names = [m.group(1) for m in found]
    rest = _PLACEHOLDER.sub("", pattern)
    year_widths = [m.group(2) for m in found if m.group(1) == "year"]
    return (
        names.count("counter") == 1
        and names.count("year") <= 1
        and all(width is None for width in year_widths)
        and "{" not in rest
        and "}" not in rest
    )


def _has_year(pattern: str) -> bool:
    return any(m.group(1) == "year" for m in _PLACEHOLDER.finditer(pattern))


def format_number(pattern: str, *, year: int, counter: int) -> str:
    def repl(match: re.Match) -> str:
        if match.group(1) == "year":
            return str(year)
        width = int(match.group(2) or 0)
        return str(counter).zfill(width)

    return _PLACEHOLDER.sub(repl, pattern)


def pattern_for(*, organization: Organization, kind: str) -> str:
    fmt = NumberFormat.objects.filter(organization=organization, kind=kind).first()
    return fmt.pattern if fmt else DEFAULT_PATTERNS[kind]


def sequence_lock(
    *, organization: Organization, kind: str, on: dt.date | None = None, pattern: str | None = None
) -> NumberSequence:
    """Lock the number range `kind` would take a number of on `on` from, until the caller's
    transaction ends. Whoever holds it is the only one issuing in that range: what it
    reads now (the newest issue date, say) stays true until its numbers are committed."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a number range is locked only inside the transaction that takes its numbers")
    pattern = pattern if pattern is not None else pattern_for(organization=organization, kind=kind)
    seq_year = (on or timezone.localdate()).year if _has_year(pattern) else 0
    NumberSequence.objects.get_or_create(organization=organization, kind=kind, year=seq_year)
    return NumberSequence.objects.select_for_update().get(organization=organization, kind=kind, year=seq_year)


def numbers_next(
    *, organization: Organization, kind: str, count: int, on: dt.date | None = None
) -> list[str]:
    """Take a contiguous block of `count` numbers of `kind` with one lock and one update.
    Must run inside the transaction that stores the numbered records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("numbers must be taken inside the transaction that stores them")
    if count < 1:
        return []
    pattern = pattern_for(organization=organization, kind=kind)
    year = (on or timezone.localdate()).year
    seq = sequence_lock(organization=organization, kind=kind, on=on, pattern=pattern)
    first = seq.last_number + 1
    seq.last_number += count
    seq.save(update_fields=["last_number"])
    return [format_number(pattern, year=year, counter=n) for n in range(first, first + count)]


def number_next(*, organization: Organization, kind: str, on: dt.date | None = None) -> str:
    """Take the next number of `kind`. Must run inside transaction.atomic()."""
    return numbers_next(organization=organization, kind=kind, count=1, on=on)[0]
