from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_tables2.config import RequestConfig

from organizations.templatetags.ui import money

from .models import Product, ServicePackage

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100


def configure_table(request, table: tables.Table, *, per_page: int = DEFAULT_PER_PAGE) -> tables.Table:
    """Sort and paginate a table from the URL, with a bounded page size.

    django-tables2 would accept any ?per_page= (0 divides by zero, 10**6 loads the whole
    table), so the size is clamped here and the library's own parameter is switched off.
    """
    try:
        wanted = int(request.GET.get("per_page", per_page))
    except (TypeError, ValueError):
        wanted = per_page
    table.per_page_field = "_per_page_handled_by_configure_table"
    RequestConfig(request, paginate={"per_page": max(5, min(wanted, MAX_PER_PAGE))}).configure(table)
    return table


class MoneyColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "num"}, "th": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, value):
        return money(value)


class ProductTable(tables.Table):
    sku = tables.Column(verbose_name=_("SKU"), linkify=("catalog:product_edit", {"pk": tables.A("pk")}))
    name = tables.Column(verbose_name=_("Name"), linkify=("catalog:product_edit", {"pk": tables.A("pk")}))
    kind = tables.Column(verbose_name=_("Kind"))
    unit_price = MoneyColumn(verbose_name=_("Net price"))
    tax_rate = tables.Column(verbose_name=_("Tax rate"), accessor="tax_rate__name", order_by="tax_rate__rate")
    service_package = tables.Column(verbose_name=_("Service package"), accessor="service_package__name")
    is_active = tables.BooleanColumn(verbose_name=_("Active"))

    class Meta:
        model = Product
        fields = ["sku", "name", "kind", "unit_price", "tax_rate", "service_package", "is_active"]
        attrs = {"class": "table table-hover align-middle"}
        empty_text = _("No products match the filter.")
        order_by = ("name",)

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


class ServicePackageTable(tables.Table):
    code = tables.Column(verbose_name=_("Code"), linkify=("catalog:package_edit", {"pk": tables.A("pk")}))
    name = tables.Column(verbose_name=_("Name"), linkify=("catalog:package_edit", {"pk": tables.A("pk")}))
    price = MoneyColumn(verbose_name=_("Price"))
    cycle = tables.Column(verbose_name=_("Cycle"))
    entitlements = tables.Column(verbose_name=_("Entitlements"), empty_values=(), orderable=False)
    is_active = tables.BooleanColumn(verbose_name=_("Active"))

    class Meta:
        model = ServicePackage
        fields = ["code", "name", "price", "cycle", "entitlements", "is_active"]
        attrs = {"class": "table table-hover align-middle"}
        empty_text = _("No service packages yet.")
        order_by = ("name",)

    def render_entitlements(self, record):
        parts = [
            format_html('<span class="badge text-bg-light border">{}</span>', str(e))
            for e in record.entitlements.all()
        ]
        return format_html(" ".join(["{}"] * len(parts)), *parts) if parts else "—"
