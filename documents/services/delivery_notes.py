"""Delivery notes: the chosen pieces of a folder's equipment, with model, serial number and
warranty, to the end customer's site; issuing one marks the pieces delivered.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Unit
from documents import texts
from documents.composition import LineSpec, folder_label_of, leased_object_for
from documents.models import Document, DocumentKind, DocumentLine, DocumentStatus, LineSource
from documents.selectors import financing_of
from documents.services.drafts import document_draft_create, document_issue
from documents.texts import split_description
from folders import services as folder_services
from folders import terms as folder_terms
from folders.models import Equipment, Folder


def _warranty_end(piece: Equipment, delivery_date: dt.date) -> dt.date | None:
    """The piece's warranty end, or (like the folders app does on delivery) the delivery
    date plus the product's warranty months."""
    if piece.warranty_end:
        return piece.warranty_end
    product = piece.line.product if piece.line.product_id else None
    if product is not None and product.warranty_months:
        return folder_terms.term_end(delivery_date, product.warranty_months)
    return None


def _delivery_spec(piece: Equipment, folder: Folder, language: str, delivery_date: dt.date) -> LineSpec:
    line = piece.line
    title, _rest = split_description(line.description)
    model = piece.model_number or (line.product.model_number if line.product_id else "")
    warranty = _warranty_end(piece, delivery_date)
    serial = (
        texts.text(language, "serial", serial=piece.serial_number)
        if piece.serial_number
        else texts.text(language, "no_serial")
    )
    detail = " · ".join(
        p
        for p in (
            texts.text(language, "model", model=model) if model else "",
            serial,
            texts.text(language, "warranty", date=texts.date(language, warranty)) if warranty else "",
        )
        if p
    )
    return LineSpec(
        description=title,
        detail=detail,
        quantity=Decimal(1),
        unit=Unit.PIECE,
        sku=line.product.sku if line.product_id else "",
        source_kind=LineSource.EQUIPMENT,
        source_line_id=piece.pk,
        source_folder_id=folder.pk,
        serial_number=piece.serial_number,
        model_number=model,
        warranty_end=warranty,
        service_start=delivery_date,
        service_end=delivery_date,
        goods=True,
    )


def delivery_window_for(folder: Folder) -> list[str]:
    """The delivery note's address window below the end customer's name: the site the goods
    go to (the note travels with them), its own name first when the site has one."""
    name, *address = folder.delivery_address_lines
    if name and name != folder.customer.name:
        address = [name, *address]
    return address


def delivered_piece_ids(organization, piece_ids=None) -> set[int]:
    """Pieces that are on an issued delivery note already (the record of a delivery; a
    delivery date typed into the folder alone is not one)."""
    qs = DocumentLine.objects.filter(
        organization=organization,
        source_kind=LineSource.EQUIPMENT,
        document__kind=DocumentKind.DELIVERY_NOTE,
    ).exclude(document__status=DocumentStatus.DRAFT)
    if piece_ids is not None:
        qs = qs.filter(source_line_id__in=list(piece_ids))
    return set(qs.values_list("source_line_id", flat=True))


def _mark_delivered(pieces: Sequence[Equipment], *, note: Document, delivery_date: dt.date, user) -> None:
    """Through the folders services: a line whose pieces are now all on delivery notes is
    marked with this one; pieces of a partly delivered line get their delivery date."""
    chosen: dict[int, list[Equipment]] = defaultdict(list)
    for piece in pieces:
        chosen[piece.line_id].append(piece)
    for line_id, line_pieces in chosen.items():
        line = line_pieces[0].line
        all_pieces = set(Equipment.objects.filter(line_id=line_id).values_list("pk", flat=True))
        if all_pieces <= delivered_piece_ids(note.organization, all_pieces):
            folder_services.oneoff_lines_mark_delivered(
                lines=[line], document=note, user=user, delivered_on=delivery_date
            )
        else:
            rows = [{"id": p.pk, "delivered_on": delivery_date} for p in line_pieces if not p.delivered_on]
            if rows:
                folder_services.equipment_update(line=line, user=user, rows=rows, confirm_duplicates=True)


def delivery_note_issue(
    *,
    folder: Folder,
    user,
    equipment_ids: Sequence[int],
    delivery_date: dt.date | None = None,
    issue_date: dt.date | None = None,
) -> Document:
    """A numbered delivery note for the chosen pieces (partial deliveries allowed), to the
    end customer's site, with product, model, serial number and warranty of each piece.
    The pieces are marked delivered in the same transaction."""
    wanted = []
    for pk in equipment_ids or ():
        try:
            wanted.append(int(pk))
        except (TypeError, ValueError):
            raise ValidationError(_("Unknown equipment."), code="unknown_equipment")
    if not wanted:
        raise ValidationError(_("Choose at least one piece of equipment to deliver."), code="no_equipment")
    delivery_date = delivery_date or timezone.localdate()
    with transaction.atomic():
        folder = Folder.objects.select_for_update().select_related("customer").get(pk=folder.pk)
        pieces = list(
            Equipment.objects.select_for_update()
            .filter(organization=folder.organization, line__folder=folder, pk__in=wanted)
            .order_by("line__position", "line_id", "piece")
        )
        if len(pieces) != len(set(wanted)):
            raise ValidationError(
                _("Some of the chosen equipment does not belong to folder %(folder)s.")
                % {"folder": folder_label_of(folder)},
                code="unknown_equipment",
            )
        pieces = list(
            Equipment.objects.filter(pk__in=[p.pk for p in pieces])
            .select_related("line", "line__product")
            .order_by("line__position", "line_id", "piece")
        )
        on_notes = delivered_piece_ids(folder.organization, [p.pk for p in pieces])
        delivered = [p for p in pieces if p.pk in on_notes]
        if delivered:
            raise ValidationError(
                _("Already delivered: %(pieces)s.")
                % {"pieces": ", ".join(p.serial_number or str(p.line) for p in delivered)},
                code="already_delivered",
            )
        customer = folder.customer
        language = texts.lang_of(customer.language)
        specs = [_delivery_spec(piece, folder, language, delivery_date) for piece in pieces]
        financed = financing_of(folder) is not None
        draft = document_draft_create(
            organization=folder.organization,
            kind=DocumentKind.DELIVERY_NOTE,
            user=user,
            customer=customer,
            payer=customer,
            lines=specs,
            folder=folder,
            delivery_date=delivery_date,
            service_start=delivery_date,
            service_end=delivery_date,
            delivery_address=folder.delivery_address_lines,
            recipient_address=delivery_window_for(folder),
            leased_object=leased_object_for(folder, [p.serial_number for p in pieces]) if financed else None,
        )
        note = document_issue(document=draft, user=user, issue_date=issue_date)
        _mark_delivered(pieces, note=note, delivery_date=delivery_date, user=user)
    return note
