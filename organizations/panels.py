"""Panels: what one app shows on another app's page, without the page's app importing it.

A page that shows another app's data (the documents of a folder, the folders of a
customer) is owned by the lower app, which cannot import the upper one. The upper app
registers a panel for the page from its `AppConfig.ready()`: a name, the template that
renders it, the slot of the page it goes to and a data function. The page's view asks
`page_panels(page, request, obj)`, which calls every data function once, and the
template includes each panel's template with its data as `panel`:

    {% for item in panels.slots.below_lines %}{% include item.template with panel=item.data %}{% endfor %}

So every query a page runs is visible from its view; no template tag queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

DataFunction = Callable[[HttpRequest, Any], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Panel:
    """`data(request, obj)` returns the panel's template context, or None when the panel
    has nothing to show on this page; `order` sorts the panels of one slot."""

    name: str
    template: str
    data: DataFunction
    slot: str = "main"
    order: int = 100


@dataclass(frozen=True)
class ShownPanel:
    name: str
    template: str
    data: dict[str, Any]


@dataclass(frozen=True)
class PagePanels:
    """The panels of one page view: `slots` in page order per slot, `data` by panel name
    (for a page that reads one value of a panel, such as the payer of a line)."""

    slots: dict[str, list[ShownPanel]] = field(default_factory=dict)
    data: dict[str, dict[str, Any]] = field(default_factory=dict)


_PAGES: dict[str, dict[str, Panel]] = {}


def panel_register(page: str, panel: Panel) -> None:
    """Register `panel` on `page` ("folder.detail"); registering a name again replaces it."""
    _PAGES.setdefault(page, {})[panel.name] = panel


def panels_for(page: str) -> list[Panel]:
    return sorted(_PAGES.get(page, {}).values(), key=lambda panel: (panel.order, panel.name))


def page_panels(page: str, request: HttpRequest, obj: Any) -> PagePanels:
    """Every panel of `page` with its data for `obj`, each data function called once."""
    shown = PagePanels()
    for panel in panels_for(page):
        data = panel.data(request, obj)
        if data is None:
            continue
        shown.slots.setdefault(panel.slot, []).append(ShownPanel(panel.name, panel.template, data))
        shown.data[panel.name] = data
    return shown
