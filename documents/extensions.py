"""Columns that upper apps add to the document lists without documents knowing them.

Arrows point one way: documents cannot import the apps built on it (payments), so those
register a list column here when they start (their ``AppConfig.ready``) and the document
tables read this registry; panels on the document page go through the shared panel
registry (organizations.panels). A column computes its cells for a whole page of rows
at once, so a list never costs a query per row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence

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


# --- the mandate an invoice names ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MandateOnFile:
    """The SEPA mandate a direct-debit invoice announces (pre-notification, e-invoice)."""

    reference: str
    iban: str


# (payer id, folder id or None) pairs -> the mandate each uses, for the pairs that have one.
MandateLookup = Callable[[Iterable[tuple[int, int | None]]], dict[tuple[int, int | None], MandateOnFile]]
_MANDATE_LOOKUP: list[MandateLookup] = []


def mandate_lookup_register(lookup: MandateLookup) -> None:
    """The app that keeps the mandates tells which one a folder's invoice uses (a
    folder's own mandate before its customer's)."""
    _MANDATE_LOOKUP[:] = [lookup]


def mandates_on_file(
    payer_folders: Iterable[tuple[object, object | None]],
) -> dict[tuple[int, int | None], MandateOnFile]:
    """Per (payer, folder) the mandate its invoice names: the registered lookup's answer,
    else the copy of the payer's own mandate on the customer row (when complete)."""
    pairs = {(payer.pk, folder.pk if folder is not None else None): payer for payer, folder in payer_folders}
    found = _MANDATE_LOOKUP[0](list(pairs)) if _MANDATE_LOOKUP and pairs else {}
    for key, payer in pairs.items():
        if key not in found and payer.iban and payer.mandate_reference:
            found[key] = MandateOnFile(reference=payer.mandate_reference, iban=payer.iban)
    return found


def mandate_on_file(payer, folder) -> MandateOnFile | None:
    return mandates_on_file([(payer, folder)]).get((payer.pk, folder.pk if folder is not None else None))


def mandate_use(document: Document, mandate: MandateOnFile | None) -> None:
    """Write the mandate a direct-debit invoice announces onto it (frozen when issued)."""
    document.mandate_reference = mandate.reference if mandate else ""
    document.mandate_iban = mandate.iban if mandate else ""
