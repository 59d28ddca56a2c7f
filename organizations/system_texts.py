"""Texts the system writes for people to read later - a billing run's log, the message of
an audit entry, a contract alert - are stored as a code with parameters,
`{"code": "billing.run_finished", "params": {...}}`, and rendered when they are shown,
in the reader's language: a finished sentence would stay in the language of whoever
happened to write it, for ever. Rows written before (plain text) show their text.

Each app registers the renderers of its codes (`system_texts_register`) when it is
loaded; a renderer takes the stored parameters and returns the sentence, calling
gettext then, so the active language (the reader's) decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils.formats import date_format

Renderer = Callable[[dict[str, Any]], str]

_RENDERERS: dict[str, Renderer] = {}


def system_texts_register(renderers: dict[str, Renderer]) -> None:
    _RENDERERS.update(renderers)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):  # also datetimes
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def system_text(code: str, **params: Any) -> dict[str, Any]:
    """The stored form of a system text (JSON): dates as ISO strings, decimals as strings."""
    if code not in _RENDERERS:
        raise KeyError(f"unknown system text {code!r}")
    return {"code": code, "params": _plain(params)}


def render_text(value: Any) -> str:
    """The text in the active language: a stored code rendered, plain text as it is."""
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    renderer = _RENDERERS.get(value.get("code", ""))
    if renderer is None:
        return str(value.get("code", ""))
    try:
        return renderer(value.get("params") or {})
    except (KeyError, TypeError, ValueError):
        # A row written by an older version with other parameters: show what we have
        # rather than break the page.
        return str(value.get("code", ""))


def short_date(value: str | None) -> str:
    """An ISO date parameter in the reader's short date format."""
    if not value:
        return "—"
    return date_format(dt.date.fromisoformat(value[:10]), "SHORT_DATE_FORMAT")


def month(value: str) -> str:
    """An ISO date parameter as the reader's "month year"."""
    return date_format(dt.date.fromisoformat(value[:10]), "F Y")
