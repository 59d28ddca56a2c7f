"""Texts with `{name}` placeholders that an organization writes itself (e-mail templates):
which names a template uses that cannot be filled, and filling it without ever failing."""

from __future__ import annotations

import string
from collections.abc import Iterable


def placeholder_problems(text: str, allowed: Iterable[str]) -> list[str]:
    """Placeholders the template uses that are not in ``allowed`` ("{" for broken braces)."""
    try:
        names = [name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name is not None]
    except ValueError:
        return ["{"]
    known = set(allowed)
    return sorted({name for name in names if name not in known})


class _Values(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def fill_placeholders(template: str, values: dict[str, str]) -> str:
    """The template with its placeholders filled; an unknown one stays as written."""
    return string.Formatter().vformat(template, (), _Values(values))
