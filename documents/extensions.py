"""What upper apps add to the document pages without documents knowing them.

Arrows point one way: documents cannot import the apps built on it (payments), so those
register a list column or a panel here when they start (their ``AppConfig.ready``) and the
document views read this registry. A column computes its cells for a whole page of rows
at once, so a list never costs a query per row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from .models import Document


@dataclasses.dataclass(frozen=True)
class ListColumn:
    key: str
    label: object
    kinds: tuple[str, ...]
    # The rendered cell (safe HTML) of each document of one page, by pk.
    cells: Callable[[Sequence[Document]], dict[int, str]]


@dataclasses.dataclass(frozen=True)
class DetailPanel:
    key: str
    kinds: tuple[str, ...]
    template_name: str
    # The panel's template context, or None when the panel has nothing to show.
    context: Callable[[object, Document], dict | None]


LIST_COLUMNS: list[ListColumn] = []
DETAIL_PANELS: list[DetailPanel] = []


def list_column_register(column: ListColumn) -> None:
    LIST_COLUMNS[:] = [c for c in LIST_COLUMNS if c.key != column.key] + [column]


def detail_panel_register(panel: DetailPanel) -> None:
    DETAIL_PANELS[:] = [p for p in DETAIL_PANELS if p.key != panel.key] + [panel]


def list_columns_for(kind: str) -> list[ListColumn]:
    return [c for c in LIST_COLUMNS if kind in c.kinds]


def detail_panels_for(request, document: Document) -> list[dict]:
    panels = []
    for panel in DETAIL_PANELS:
        if document.kind not in panel.kinds:
            continue
        context = panel.context(request, document)
        if context is not None:
            panels.append({"template_name": panel.template_name, "context": context})
    return panels
