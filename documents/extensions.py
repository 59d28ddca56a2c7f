"""Columns that upper apps add to the document lists without documents knowing them.

Arrows point one way: documents cannot import the apps built on it (payments), so those
register a list column here when they start (their ``AppConfig.ready``) and the document
tables read this registry; panels on the document page go through the shared panel
registry (organizations.panels). A column computes its cells for a whole page of rows
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


LIST_COLUMNS: list[ListColumn] = []


def list_column_register(column: ListColumn) -> None:
    LIST_COLUMNS[:] = [c for c in LIST_COLUMNS if c.key != column.key] + [column]


def list_columns_for(kind: str) -> list[ListColumn]:
    return [c for c in LIST_COLUMNS if kind in c.kinds]
