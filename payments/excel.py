"""The open-items list as an Excel workbook: real numbers and dates, totals as formulas."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .selectors import AGEING_BUCKETS, OpenItem

MONEY_FORMAT = '#,##0.00 "€";-#,##0.00 "€"'
DATE_FORMAT = "DD.MM.YYYY"
BOLD = Font(bold=True)


def _header(sheet, titles: list[str], widths: list[int]) -> None:
    sheet.append(titles)
    for index, width in enumerate(widths, start=1):
        sheet.cell(row=1, column=index).font = BOLD
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"


def _payer_number(item: OpenItem) -> str:
    owner = item.invoice if item.invoice is not None else item.charge
    return owner.payer.number if owner is not None else ""


def open_items_workbook(items: list[OpenItem], summary: list[dict], *, as_of: dt.date) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _("Open items")[:31]
    bucket_labels = {key: str(label) for key, label, *_rest in AGEING_BUCKETS}
    _header(
        sheet,
        [
            _("Customer number"),
            _("Customer"),
            _("Document"),
            _("Date"),
            _("Due"),
            _("Days overdue"),
            _("Ageing"),
            _("Gross"),
            _("Open"),
        ],
        [16, 36, 22, 12, 12, 12, 16, 14, 14],
    )
    for item in items:
        sheet.append(
            [
                _payer_number(item),
                item.payer_name,
                item.number,
                item.date,
                item.due_date,
                item.days_overdue,
                bucket_labels[item.bucket],
                item.gross,
                item.open,
            ]
        )
    last = sheet.max_row
    for row in sheet.iter_rows(min_row=2, max_row=last):
        row[3].number_format = row[4].number_format = DATE_FORMAT
        row[7].number_format = row[8].number_format = MONEY_FORMAT
    total_row = last + 1
    sheet.cell(row=total_row, column=2, value=_("Total")).font = BOLD
    for column in (8, 9):
        letter = get_column_letter(column)
        cell = sheet.cell(row=total_row, column=column, value=f"=SUM({letter}2:{letter}{max(last, 2)})")
        cell.number_format = MONEY_FORMAT
        cell.font = BOLD
    sheet.auto_filter.ref = f"A1:I{max(last, 1)}"

    ageing = book.create_sheet(_("Ageing")[:31])
    keys = [key for key, *_rest in AGEING_BUCKETS]
    _header(
        ageing,
        [_("Customer"), *[bucket_labels[k] for k in keys], _("Total open")],
        [36] + [14] * (len(keys) + 1),
    )
    for row in summary:
        index = ageing.max_row + 1
        total_letter_from, total_letter_to = get_column_letter(2), get_column_letter(len(keys) + 1)
        ageing.append(
            [
                row["payer_name"],
                *[row[k] for k in keys],
                f"=SUM({total_letter_from}{index}:{total_letter_to}{index})",
            ]
        )
    last = ageing.max_row
    for row in ageing.iter_rows(min_row=2, max_row=last, min_col=2):
        for cell in row:
            cell.number_format = MONEY_FORMAT
    total_row = last + 1
    ageing.cell(row=total_row, column=1, value=_("Total")).font = BOLD
    for column in range(2, len(keys) + 3):
        letter = get_column_letter(column)
        cell = ageing.cell(row=total_row, column=column, value=f"=SUM({letter}2:{letter}{max(last, 2)})")
        cell.number_format = MONEY_FORMAT
        cell.font = BOLD
    ageing.cell(row=total_row + 2, column=1, value=_("Aged on"))
    ageing.cell(row=total_row + 2, column=2, value=as_of).number_format = DATE_FORMAT
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
