from __future__ import annotations

import django_tables2 as tables
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from customers.tables import PagedTable
from organizations.collation import german
from organizations.tables import TABLE_ATTRS

from .models import Folder


class ShortDateColumn(tables.Column):
    """A date as SHORT_DATE_FORMAT. tables2's DateColumn is a TemplateColumn that
    compiles its template again for every cell."""

    def render(self, value):
        return date_format(value, "SHORT_DATE_FORMAT")


class FolderTable(PagedTable):
    """Every sort ends in a unique key (stable pages) that an index with the organization
    first can deliver together with the sorted column (see migration folders/0002)."""

    number = tables.Column(
        verbose_name=_("Number"),
        linkify=("folders:detail", {"pk": tables.A("pk")}),
        attrs={"td": {"class": "text-nowrap"}},
    )
    name = tables.Column(
        verbose_name=_("Name"), linkify=("folders:detail", {"pk": tables.A("pk")}), order_by=("name", "id")
    )
    customer = tables.Column(verbose_name=_("Customer"))  # sorted by order_customer()
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "id"))
    financier = tables.Column(
        verbose_name=_("Financier"),
        accessor="financing__financier__name",
        order_by=("financing__financier__name", "id"),
        default="—",
    )
    start_date = ShortDateColumn(verbose_name=_("Start"), order_by=("start_date", "id"))
    contract_end = ShortDateColumn(verbose_name=_("Contract end"), order_by=("contract_end", "id"))
    owner = tables.Column(
        verbose_name=_("Account manager"), order_by=("owner__first_name", "owner__last_name", "id")
    )

    class Meta:
        model = Folder
        fields = ["number", "name", "customer", "status", "financier", "start_date", "contract_end", "owner"]
        attrs = TABLE_ATTRS
        empty_text = _("No folders match the filter.")
        order_by = ("-number",)

    def order_customer(self, queryset, is_descending):
        """By customer name, then customer, then folder number. The customer's
        organization is the folder's (always true): with it PostgreSQL walks the
        customers' (organization, name, id) index and stops after one page, instead of
        joining and sorting every folder."""
        sign = "-" if is_descending else ""
        name = german("customer__name")
        queryset = queryset.filter(customer__organization=F("organization")).order_by(
            name.desc() if is_descending else name.asc(), f"{sign}customer_id", f"{sign}number"
        )
        return queryset, True

    def order_financier(self, queryset, is_descending):
        """Financiers' names in German order, like the customers'."""
        name = german("financing__financier__name")
        return queryset.order_by(
            name.desc() if is_descending else name.asc(), "-id" if is_descending else "id"
        ), True

    def render_customer(self, record):
        url = reverse("customers:detail", kwargs={"pk": record.customer_id})
        return format_html(
            '<a href="{}">{}</a> <span class="text-body-secondary small">{}</span>',
            url,
            record.customer.name,
            record.customer.number,
        )

    def render_status(self, record):
        return render_to_string("folders/_badges.html", {"folder": record, "with_status": True})

    def render_owner(self, record):
        return record.owner.get_full_name() or record.owner.username
