"""Writes to equipment: the pieces of a one-off equipment line (one row per piece,
following the line's quantity) with their serial numbers, model numbers, warranty and
delivery dates. Changes are filed under the folder's history."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from organizations.audit import diff, snapshot
from organizations.system_texts import system_text

from . import system_texts as _system_texts  # noqa: F401 - registers the codes used below
from . import terms
from .models import MAX_EQUIPMENT_PIECES, Equipment, OneOffLine
from .service_kit import folder_log

EQUIPMENT_FIELDS = ["serial_number", "model_number", "warranty_end", "delivered_on"]


class DuplicateSerialWarning(ValidationError):
    """A serial number already exists for the same product in the organization.

    Raised unless the caller passes `confirm_duplicates=True` (the "save anyway" box):
    two pieces with one serial number are usually a typo, but refurbished devices and
    manufacturer mistakes exist.
    """

    def __init__(self, conflicts: list[dict[str, Any]]):
        self.conflicts = conflicts
        serials = ", ".join(sorted({c["serial_number"] for c in conflicts}))
        super().__init__(
            _(
                "Serial number already recorded for this product: %(serials)s. Check it, or tick “save anyway”."
            )
            % {"serials": serials},
            code="duplicate_serial",
        )


def _piece_has_data(piece: Equipment) -> bool:
    # The model number is pre-filled from the product; what a clerk records is the rest.
    return bool(piece.serial_number or piece.warranty_end or piece.delivered_on)


def sync_equipment(line: OneOffLine) -> None:
    """Make the line's Equipment rows match its quantity (one per piece).

    When the quantity drops, empty pieces are removed first; if more pieces carry data
    (serial number, dates) than the new quantity allows, the change is refused so that
    no recorded serial number disappears without a trace.
    """
    wanted = line.pieces
    if wanted > MAX_EQUIPMENT_PIECES:
        raise ValidationError(
            {"quantity": _("At most %(max)s pieces per equipment line.") % {"max": MAX_EQUIPMENT_PIECES}}
        )
    pieces = list(Equipment.objects.filter(line=line).order_by("piece"))
    if len(pieces) == wanted:
        return
    if len(pieces) < wanted:
        model_number = line.product.model_number if line.product_id else ""
        start = pieces[-1].piece if pieces else 0
        Equipment.objects.bulk_create(
            [
                Equipment(
                    organization_id=line.organization_id,
                    line=line,
                    piece=start + i + 1,
                    model_number=model_number,
                )
                for i in range(wanted - len(pieces))
            ]
        )
        return
    with_data = [p for p in pieces if _piece_has_data(p)]
    if len(with_data) > wanted:
        raise ValidationError(
            {
                "quantity": _(
                    "%(count)s pieces of this line carry serial numbers or dates; clear the pieces to remove "
                    "before lowering the quantity to %(wanted)s."
                )
                % {"count": len(with_data), "wanted": wanted}
            }
        )
    empty = [p for p in pieces if not _piece_has_data(p)]
    keep_empty = empty[: wanted - len(with_data)]
    keep = sorted(with_data + keep_empty, key=lambda p: p.piece)
    keep_ids = {p.pk for p in keep}
    Equipment.objects.filter(line=line).exclude(pk__in=keep_ids).delete()
    for number, piece in enumerate(keep, start=1):
        if piece.piece != number:
            piece.piece = number
            piece.save(update_fields=["piece", "updated_at"])


def default_warranty(piece: Equipment, line: OneOffLine) -> None:
    """Warranty end = delivery date + the product's warranty months (if not entered)."""
    if piece.warranty_end is None and piece.delivered_on and line.product_id and line.product.warranty_months:
        piece.warranty_end = terms.term_end(piece.delivered_on, line.product.warranty_months)


def serial_duplicates(
    *, organization_id: int, product_id: int | None, serials: Iterable[str], exclude_ids: Iterable[int] = ()
) -> list[dict[str, Any]]:
    """Pieces of the same product (or, for lines without a product, of other lines
    without one) that already carry one of `serials` (case-insensitive)."""
    wanted = {s.strip().upper() for s in serials if s and s.strip()}
    if not wanted:
        return []
    query = Q()
    for serial in wanted:
        query |= Q(serial_number__iexact=serial)
    qs = (
        Equipment.objects.filter(query, organization_id=organization_id)
        .exclude(pk__in=list(exclude_ids))
        .select_related("line__folder__customer")
    )
    qs = qs.filter(line__product_id=product_id) if product_id else qs.filter(line__product__isnull=True)
    return [
        {
            "serial_number": e.serial_number,
            "folder": e.line.folder.number,
            "customer": e.line.folder.customer.name,
            "equipment_id": e.pk,
        }
        for e in qs
    ]


def equipment_update(
    *,
    line: OneOffLine,
    user,
    rows: Iterable[dict[str, Any]] = (),
    serials: Iterable[str] = (),
    confirm_duplicates: bool = False,
    may_record_delivery: bool = True,
) -> list[Equipment]:
    """Save serial number, model number, warranty end and delivery date of a line's
    pieces in one go. `rows` are dicts with the piece's `id` and the fields to set;
    `serials` (pasted, e.g. from a scanner) then fill the pieces still without one.

    Refused, nothing saved: a piece of another line; more serial numbers than pieces
    without one; a warranty ending before delivery; a serial number used twice for the
    same product in the organization - unless `confirm_duplicates` ("save anyway");
    a delivery date typed in without `may_record_delivery` (the role "equipment.deliver":
    the date releases the invoice, so without a delivery note only the people who
    invoice may state it); a changed delivery date of an invoiced line (the invoice states it
    as the date of supply).
    """
    folder = line.folder
    pieces = {p.pk: p for p in Equipment.objects.filter(line=line).order_by("piece")}
    before = {pk: snapshot(p, EQUIPMENT_FIELDS) for pk, p in pieces.items()}
    for row in rows:
        piece = pieces.get(row.get("id"))
        if piece is None:
            raise ValidationError(_("A piece does not belong to this line."))
        for name in EQUIPMENT_FIELDS:
            if name in row:
                value = row[name]
                if isinstance(value, str):
                    value = value.strip()
                if value is None and name not in ("warranty_end", "delivered_on"):
                    value = ""
                setattr(piece, name, value)

    serials = [s.strip() for s in serials if s and s.strip()]
    if serials:
        free = [p for p in pieces.values() if not p.serial_number]
        if len(serials) > len(free):
            raise ValidationError(
                {
                    "serials": _(
                        "%(count)s serial numbers entered, but only %(free)s of the line's %(pieces)s pieces "
                        "have none yet."
                    )
                    % {"count": len(serials), "free": len(free), "pieces": len(pieces)}
                }
            )
        for piece, serial in zip(free, serials, strict=False):
            piece.serial_number = serial

    errors: list[str] = []
    changed: list[tuple[Equipment, dict[str, list[Any]]]] = []
    for pk, piece in pieces.items():
        if snapshot(piece, ["delivered_on"])["delivered_on"] != before[pk]["delivered_on"]:
            # A first date after an advance invoice is the delivery it announced.
            if line.is_invoiced and before[pk]["delivered_on"] is not None:
                errors.append(
                    _(
                        "Piece %(piece)s: the delivery date is the date of supply on invoice %(number)s and "
                        "cannot be changed."
                    )
                    % {"piece": piece.piece, "number": line.invoice_number}
                )
            elif not may_record_delivery:
                errors.append(
                    _(
                        "Piece %(piece)s: your role may not record a delivery date; issue a delivery note "
                        "instead."
                    )
                    % {"piece": piece.piece}
                )
        default_warranty(piece, line)
        if piece.warranty_end and piece.delivered_on and piece.warranty_end < piece.delivered_on:
            errors.append(
                _("Piece %(piece)s: the warranty cannot end before delivery.") % {"piece": piece.piece}
            )
        try:
            piece.full_clean(exclude=["line"])
        except ValidationError as exc:
            errors.extend(f"{piece.piece}: {m}" for m in exc.messages)
        change = diff(before[pk], snapshot(piece, EQUIPMENT_FIELDS))
        if change:
            changed.append((piece, change))
    if errors:
        raise ValidationError(errors)
    if not changed:
        return list(pieces.values())

    # Duplicates: typos inside the line as well as serial numbers recorded elsewhere.
    conflicts: list[dict[str, Any]] = []
    seen: set[str] = set()
    for piece in pieces.values():
        key = piece.serial_number.strip().upper()
        if key and key in seen:
            conflicts.append(
                {
                    "serial_number": piece.serial_number,
                    "folder": folder.number,
                    "customer": folder.customer.name,
                }
            )
        seen.add(key)
    new_serials = [p.serial_number for p, change in changed if "serial_number" in change and p.serial_number]
    if new_serials:
        conflicts += serial_duplicates(
            organization_id=line.organization_id,
            product_id=line.product_id,
            serials=new_serials,
            exclude_ids=pieces.keys(),
        )
    if conflicts and not confirm_duplicates:
        raise DuplicateSerialWarning(conflicts)

    with transaction.atomic():
        flat: dict[str, list[Any]] = {}
        for piece, change in changed:
            piece.save()
            for field_name, values in change.items():
                flat[f"{field_name}#{piece.piece}"] = values
        data: dict[str, Any] = {"changes": flat}
        if conflicts:
            data["message"] = system_text(
                "folders.duplicate_serials_saved", serials=sorted({c["serial_number"] for c in conflicts})
            )
        folder_log(folder=folder, user=user, action="equipment.changed", obj=line, data=data)
    return list(pieces.values())


def equipment_assign_serials(
    *, line: OneOffLine, user, serials: list[str], confirm_duplicates: bool = False
) -> list[Equipment]:
    """Fill pieces without a serial number, in order, from a pasted list (scanner)."""
    return equipment_update(line=line, user=user, serials=serials, confirm_duplicates=confirm_duplicates)
