from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from organizations.tables import TABLE_ATTRS, MoneyColumn
from organizations.templatetags.ui import money

from .models import Product, ServicePackage


def _link(record, view: str) -> str:
    return reverse(view, kwargs={"pk": record.pk})


class _CatalogTable(tables.Table):
    """Rows link to the edit page for those who may change the catalog and to the read-only
    page for everyone else, so no role is offered a link that answers 403."""

    edit_view = detail_view = ""

    def __init__(self, *args, editable: bool = False, **kwargs):
        self.row_view = self.edit_view if editable else self.detail_view
        super().__init__(*args, **kwargs)

    def row_url(self, record) -> str:
        return _link(record, self.row_view)


class ProductTable(_CatalogTable):
    sku = tables.Column(verbose_name=_("SKU"), linkify=lambda table, record: table.row_url(record))
    name = tables.Column(verbose_name=_("Name"), linkify=lambda table, record: table.row_url(record))
    kind = tables.Column(verbose_name=_("Kind"))
    unit_price = MoneyColumn(verbose_name=_("Net price"))
    tax_rate = tables.Column(verbose_name=_("Tax rate"), accessor="tax_rate__name", order_by="tax_rate__rate")
    service_package = tables.Column(verbose_name=_("Service package"), accessor="service_package__name")
    is_active = tables.BooleanColumn(verbose_name=_("Active"))

    class Meta:
        model = Product
        fields = ["sku", "name", "kind", "unit_price", "tax_rate", "service_package", "is_active"]
        attrs = TABLE_ATTRS
        empty_text = _("No products match the filter.")
        order_by = ("name",)

    edit_view, detail_view = "catalog:product_edit", "catalog:product_detail"

    def render_kind(self, record):
        text = record.get_kind_display()
        if record.cycle:
            text = f"{text} · {record.get_cycle_display()}"
        if record.is_equipment:
            return format_html('{} <span class="badge text-bg-light border">{}</span>', text, _("equipment"))
        return text

    def render_unit_price(self, record):
        return format_html(
            '{}<span class="text-body-secondary small"> / {}</span>',
            money(record.unit_price),
            record.get_unit_display(),
        )


class ServicePackageTable(_CatalogTable):
    code = tables.Column(verbose_name=_("Code"), linkify=lambda table, record: table.row_url(record))
    name = tables.Column(verbose_name=_("Name"), linkify=lambda table, record: table.row_url(record))
    price = MoneyColumn(verbose_name=_("Price"))
    cycle = tables.Column(verbose_name=_("Cycle"))
    entitlements = tables.Column(verbose_name=_("Entitlements"), empty_values=(), orderable=False)
    is_active = tables.BooleanColumn(verbose_name=_("Active"))

    class Meta:
        model = ServicePackage
        fields = ["code", "name", "price", "cycle", "entitlements", "is_active"]
        attrs = TABLE_ATTRS
        empty_text = _("No service packages yet.")
        order_by = ("name",)

    edit_view, detail_view = "catalog:package_edit", "catalog:package_detail"

    def render_entitlements(self, record):
        parts = [
            format_html('<span class="badge text-bg-light border">{}</span>', str(e))
            for e in record.entitlements.all()
        ]
        return format_html(" ".join(["{}"] * len(parts)), *parts) if parts else "—"
