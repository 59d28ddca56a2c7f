"""The table kit every list shares: bounded paging and sorting from the URL, money columns."""

from __future__ import annotations

import django_tables2 as tables
from django_tables2.config import RequestConfig

from organizations.templatetags.ui import money

DEFAULT_PER_PAGE = 25
MIN_PER_PAGE = 5
MAX_PER_PAGE = 100
NUM = {"td": {"class": "num"}, "th": {"class": "num"}}
# The look of every list table (a table's Meta: `attrs = TABLE_ATTRS`).
TABLE_ATTRS = {"class": "table table-hover align-middle"}


def bounded_int(raw, *, default: int, low: int, high: int) -> int:
    """An integer from the URL, clamped to [low, high]; anything that is not a plain number of
    sensible length (text, '1e9', twenty digits) gives the default."""
    text = str(raw).strip() if raw is not None else ""
    if not text.lstrip("-").isdigit() or len(text) > 9:
        return default
    return max(low, min(int(text), high))


def configure_table(request, table: tables.Table, *, per_page: int = DEFAULT_PER_PAGE) -> tables.Table:
    """Sort and paginate a table from the URL, with a bounded page size.

    django-tables2 would accept any ?per_page= (0 divides by zero, -1 or 10**6 loads the whole
    table), so the size is clamped here and the library's own parameter is switched off. The
    page number is left to django-tables2, which shows the last page for one out of range.
    """
    wanted = bounded_int(request.GET.get("per_page"), default=per_page, low=MIN_PER_PAGE, high=MAX_PER_PAGE)
    table.per_page_field = "_per_page_handled_by_configure_table"
    RequestConfig(request, paginate={"per_page": wanted}).configure(table)
    return table


class MoneyColumn(tables.Column):
    """An amount with two decimals and the currency, right-aligned."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", NUM)
        super().__init__(*args, **kwargs)

    def render(self, value):
        return money(value)
