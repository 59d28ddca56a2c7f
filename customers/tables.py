from __future__ import annotations

import django_tables2 as tables
from django.db.models import QuerySet
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_tables2.data import TableQuerysetData

from organizations.collation import german
from organizations.tables import TABLE_ATTRS

from .models import Action, Customer
from .templatetags.customers_ui import person


class PageByIdsData(TableQuerysetData):
    """Table data for big lists: a page is loaded in two short queries, not one long one.

    One query for a page - `SELECT <all joined columns and annotations> ... ORDER BY x
    LIMIT 25 OFFSET n` - makes the database join, annotate and (sorting by a joined
    column) sort every row it skips or compares, not just the 25 it returns. Here the
    page's ids are cut out first, with only the joins the filter and the ordering need,
    then those rows are loaded by id from `rows` (the list's queryset with everything
    the table shows joined and annotated, but without the filter, which the ids have
    applied already).

    The paginator's count is taken from the queryset as filtered, before the table
    orders it. Ordering never changes which rows are listed, so an `order_<column>`
    method may add conditions that are always true but let the database walk an index
    in the wanted order (see `folders.tables.FolderTable.order_customer`) without making
    the count join that table too.
    """

    def __init__(self, data: QuerySet, rows: QuerySet | None = None):
        super().__init__(data)
        self.filtered = data
        self.rows = data if rows is None else rows

    def __len__(self):
        if getattr(self, "_length", None) is None:
            if hasattr(self.table, "paginator"):
                self._length = self.filtered.count()
            else:
                self._length = len(self.data)
        return self._length

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return super().__getitem__(key)
        ids = list(self.data[key].values_list("pk", flat=True))
        if not ids:
            return []
        rows = {row.pk: row for row in self.rows.order_by().filter(pk__in=ids)}
        return [rows[pk] for pk in ids if pk in rows]


class PagedTable(tables.Table):
    """A table whose querysets are paged through `PageByIdsData`: pass the filtered
    queryset as data and, as `rows`, the unfiltered one the rows are loaded from."""

    def __init__(self, data=None, *args, rows: QuerySet | None = None, **kwargs):
        if isinstance(data, QuerySet):
            data = PageByIdsData(data, rows=rows)
        super().__init__(data, *args, **kwargs)


class CustomerTable(PagedTable):
    number = tables.Column(verbose_name=_("No."), attrs={"td": {"class": "text-nowrap"}})
    name = tables.TemplateColumn(
        template_name="customers/_cell_name.html", verbose_name=_("Company name"), order_by=("name", "pk")
    )
    # Cells rendered in Python rather than with a template_code TemplateColumn, which
    # compiles its template again for every cell.
    city = tables.Column(verbose_name=_("City"), order_by=("city", "postal_code", "pk"), empty_values=())
    email = tables.TemplateColumn(
        template_name="customers/_cell_contact.html",
        verbose_name=_("E-mail / phone"),
        order_by=("email", "pk"),
    )
    payment_method = tables.Column(verbose_name=_("Payment"), order_by=("payment_method", "name", "pk"))
    owner = tables.Column(
        verbose_name=_("Account manager"),
        order_by=("owner__last_name", "owner__username", "pk"),
        empty_values=(),
    )
    open_actions = tables.TemplateColumn(
        template_name="customers/_cell_open_actions.html",
        verbose_name=_("Open actions"),
        order_by=("open_actions", "name", "pk"),
        attrs={"th": {"class": "num"}, "td": {"class": "num"}},
    )

    class Meta:
        model = Customer
        fields = ["number", "name", "city", "email", "payment_method", "owner", "open_actions"]
        attrs = TABLE_ATTRS
        order_by = ("name",)
        empty_text = ""  # the template shows a proper empty state instead
        per_page = 25

    def order_name(self, queryset, is_descending):
        """Names in German order (Köhler, König, Krüger), see organizations.collation."""
        name = german("name")
        queryset = queryset.order_by(
            name.desc() if is_descending else name.asc(), "-pk" if is_descending else "pk"
        )
        return queryset, True

    def render_city(self, record):
        country = f" ({record.country})" if record.country != "DE" else ""
        return format_html("{} {}{}", record.postal_code, record.city, country)

    def render_owner(self, record):
        return person(record.owner)


class ProspectTable(CustomerTable):
    class Meta(CustomerTable.Meta):
        exclude = ["payment_method"]


class ActionTable(tables.Table):
    due_on = tables.TemplateColumn(
        template_code='{% load i18n %}{{ value|date:"SHORT_DATE_FORMAT" }}{% if record.is_overdue %} '
        '<span class="badge text-bg-danger">{% translate "overdue" %}</span>{% endif %}',
        verbose_name=_("Due on"),
        attrs={"td": {"class": "text-nowrap"}},
    )
    customer = tables.TemplateColumn(
        template_code='<a class="fw-medium text-decoration-none" '
        "href=\"{% url 'customers:detail' record.customer_id %}?tab=actions\">{{ record.customer.name }}</a>",
        verbose_name=_("Customer"),
        order_by=("customer__name",),
    )
    description = tables.TemplateColumn(
        template_code="{{ value|linebreaksbr }}", verbose_name=_("Description"), orderable=False
    )
    assignee = tables.TemplateColumn(
        template_code="{% load customers_ui %}{{ record.assignee|person|default:'—' }}",
        verbose_name=_("Assigned to"),
        order_by=("assignee__last_name", "assignee__username"),
    )
    buttons = tables.TemplateColumn(
        template_name="customers/_cell_action_buttons.html",
        verbose_name="",
        orderable=False,
        attrs={"td": {"class": "text-end text-nowrap"}},
    )

    class Meta:
        model = Action
        fields = ["due_on", "customer", "description", "assignee", "buttons"]
        attrs = TABLE_ATTRS
        row_attrs = {"class": lambda record: "overdue" if record.is_overdue else ""}
        order_by = ("due_on",)
        empty_text = ""
        per_page = 50
