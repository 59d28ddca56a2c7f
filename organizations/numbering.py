"""One numbering service for every number range of an organization.

Call `number_next` inside the transaction that stores the numbered record: the sequence
row stays locked until that transaction ends, which serialises concurrent issuers and
makes a rollback return the number.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
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


# --- Checking a pattern before it is saved ----------------------------------------------


@dataclass(frozen=True)
class NumberedField:
    """Where the numbers of one kind are stored: the column's length and the numbers
    already given out. The apps that own those tables register theirs at start-up
    (`numbered_field_register`; this app cannot import them)."""

    max_length: int
    taken: Callable[[Organization], QuerySet]  # values_list("number", flat=True)


_NUMBERED_FIELDS: dict[str, NumberedField] = {}


def numbered_field_register(kind: str, field: NumberedField) -> None:
    _NUMBERED_FIELDS[kind] = field


COUNTER_WIDTH_MAX = 12
# NumberSequence.last_number is a PositiveIntegerField: the counter never has more digits.
COUNTER_DIGITS_MAX = 10
# Stands for "any digit" in the automata below; a pattern never contains it (forms refuse
# NUL characters), so no literal character is mistaken for it.
_DIGIT = "\x00"
_DIGITS = frozenset("0123456789")
_LITERAL_YEAR = re.compile(r"(?<!\d)(19|20)\d\d(?!\d)")


def _counter_width(pattern: str) -> int | None:
    """The counter's written width, None when the pattern gives none ({counter})."""
    for match in _PLACEHOLDER.finditer(pattern):
        if match.group(1) == "counter" and match.group(2) is not None:
            return int(match.group(2))
    return None


def pattern_max_length(pattern: str) -> int:
    """The longest number the pattern can render: the counter at its widest."""
    width = max(_counter_width(pattern) or 0, COUNTER_DIGITS_MAX)
    return len(_PLACEHOLDER.sub(lambda m: "0000" if m.group(1) == "year" else "0" * width, pattern))


def _tokens(pattern: str) -> list[tuple[str, int, int | None]]:
    """The pattern as a sequence of (character, min, max) with _DIGIT standing for a digit:
    a literal is one character exactly once, {year} four digits, the counter at least its
    width (it grows beyond the width, never shorter)."""
    tokens: list[tuple[str, int, int | None]] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(pattern):
        tokens.extend((char, 1, 1) for char in pattern[pos : match.start()])
        if match.group(1) == "year":
            tokens.append((_DIGIT, 4, 4))
        else:
            # Capped: a pattern stored before the width check may ask for millions.
            width = min(int(match.group(2) or 0), COUNTER_WIDTH_MAX + 1)
            tokens.append((_DIGIT, max(width, 1), None))
        pos = match.end()
    tokens.extend((char, 1, 1) for char in pattern[pos:])
    return tokens


def _automaton(pattern: str) -> tuple[list[list[tuple[str, int]]], int]:
    """A small automaton over the tokens: states are positions, edges carry a character
    or _DIGIT (any digit). Returns (edges per state, accepting state)."""
    edges: list[list[tuple[str, int]]] = [[]]
    for char, low, high in _tokens(pattern):
        for _i in range(low):
            edges.append([])
            edges[-2].append((char, len(edges) - 1))
        if high is None:  # the counter: any number of further digits
            edges[-1].append((char, len(edges) - 1))
    return edges, len(edges) - 1


def _matches(a: str, b: str) -> bool:
    if a == _DIGIT:
        return b == _DIGIT or b in _DIGITS
    if b == _DIGIT:
        return a in _DIGITS
    return a == b


def patterns_overlap(first: str, second: str) -> bool:
    """Whether some number could be rendered by both patterns (for any year and counter):
    a walk through both automata at once that reaches both ends."""
    edges_a, end_a = _automaton(first)
    edges_b, end_b = _automaton(second)
    seen = {(0, 0)}
    todo = [(0, 0)]
    while todo:
        state_a, state_b = todo.pop()
        if state_a == end_a and state_b == end_b:
            return True
        for char_a, next_a in edges_a[state_a]:
            for char_b, next_b in edges_b[state_b]:
                if _matches(char_a, char_b) and (next_a, next_b) not in seen:
                    seen.add((next_a, next_b))
                    todo.append((next_a, next_b))
    return False


def _regex(pattern: str, *, groups: bool) -> str:
    """A regular expression for the numbers `pattern` renders; plain character classes,
    so the same text works in Python and in the database (SQLite, PostgreSQL)."""
    parts = ["^"]
    pos = 0
    for match in _PLACEHOLDER.finditer(pattern):
        parts.append(re.escape(pattern[pos : match.start()]))
        if match.group(1) == "year":
            parts.append("(?P<year>[0-9]{4})" if groups else "[0-9]{4}")
        else:
            parts.append("(?P<counter>[0-9]+)" if groups else "[0-9]+")
        pos = match.end()
    parts.append(re.escape(pattern[pos:]))
    parts.append("$")
    return "".join(parts)


def _parse(pattern: str, number: str) -> tuple[int, int] | None:
    """(year, counter) if `pattern` renders exactly `number` for them, else None."""
    found = re.match(_regex(pattern, groups=True), number)
    if not found:
        return None
    year = int(found.group("year")) if "year" in found.groupdict() else 0
    counter = int(found.group("counter"))
    if counter < 1 or format_number(pattern, year=year, counter=counter) != number:
        return None
    return year, counter


def pattern_problems(
    *, organization: Organization, kind: str, pattern: str, check_taken: bool = True
) -> list[str]:
    """Why `pattern` cannot number `kind` (empty if it can), as messages for the form.
    `check_taken=False` skips the look through the numbers already given out (lists).

    Every rule protects the issuing of records later on: a number that does not fit its
    column, or one that was given out before, would make every issue of that kind fail
    (documents cannot be issued then, customers not created).
    """
    if not pattern_is_valid(pattern):
        return [
            str(
                _(
                    "The pattern needs exactly one {counter} placeholder and may contain {year} once "
                    "(without a width), e.g. RE-{year}-{counter:06}."
                )
            )
        ]
    problems: list[str] = []
    width = _counter_width(pattern)
    if width is not None and not 1 <= width <= COUNTER_WIDTH_MAX:
        problems.append(
            str(
                _("The counter may have 1 to %(max)s digits, e.g. {counter:06}.") % {"max": COUNTER_WIDTH_MAX}
            )
        )
        return problems
    if _LITERAL_YEAR.search(_PLACEHOLDER.sub(" ", pattern)):
        # A written-out year never changes, and without {year} the counter does not
        # restart: next January the numbers would carry the old year.
        problems.append(
            str(_("Write {year} instead of a fixed year; the year is filled in when the number is taken."))
        )
    field = _NUMBERED_FIELDS.get(kind)
    if field is not None and pattern_max_length(pattern) > field.max_length:
        problems.append(
            str(
                _("Numbers of this pattern can reach %(length)s characters; at most %(max)s fit.")
                % {"length": pattern_max_length(pattern), "max": field.max_length}
            )
        )
    for other in DEFAULT_PATTERNS:
        if other != kind and patterns_overlap(pattern, pattern_for(organization=organization, kind=other)):
            problems.append(
                str(
                    _("This pattern can produce the same numbers as the range “%(other)s” (%(pattern)s).")
                    % {
                        "other": KIND_LABELS[other],
                        "pattern": pattern_for(organization=organization, kind=other),
                    }
                )
            )
    if problems or not check_taken:
        return problems
    clash = number_taken_later(organization=organization, kind=kind, pattern=pattern)
    if clash:
        problems.append(
            str(
                _(
                    "With this pattern the counter would later reach the number %(number)s, which is already taken."
                )
                % {"number": clash}
            )
        )
    return problems


def number_taken_later(*, organization: Organization, kind: str, pattern: str) -> str | None:
    """An existing number (of any kind) that `pattern` would render once its counter
    moves on, or None. Counters only go up, so numbers at or below a range's current
    counter are never rendered again; only those above it would clash."""
    has_year = _has_year(pattern)
    last = {
        seq.year: seq.last_number
        for seq in NumberSequence.objects.filter(organization=organization, kind=kind)
    }
    candidates = _regex(pattern, groups=False)
    for field in _NUMBERED_FIELDS.values():
        for number in field.taken(organization).filter(number__regex=candidates).iterator():
            parsed = _parse(pattern, number)
            if parsed is None:
                continue
            year, counter = parsed
            if counter > last.get(year if has_year else 0, 0):
                return number
    return None
