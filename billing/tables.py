from __future__ import annotations

import django_tables2 as tables
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from organizations.tables import TABLE_ATTRS, MoneyColumn
from organizations.timezones import local_datetime

from .models import BillingRun, BillingRunItem, BillingRunSkip

WIDE = {"td": {"class": "d-none d-md-table-cell"}, "th": {"class": "d-none d-md-table-cell"}}
WIDE_NUM = {"td": {"class": "num d-none d-md-table-cell"}, "th": {"class": "num d-none d-md-table-cell"}}


class BillingRunTable(tables.Table):
    """Phones show month, status, invoices and gross; the rest from tablet width on."""

    period = tables.Column(
        verbose_name=_("Month"),
        linkify=("billing:detail", {"pk": tables.A("pk")}),
        attrs={"td": {"class": "text-nowrap"}},
    )
    status = tables.Column(verbose_name=_("Status"))
    started_by = tables.Column(
        verbose_name=_("Started by"), order_by=("started_by__last_name",), empty_values=(), attrs=WIDE
    )
    created_at = tables.Column(verbose_name=_("Started at"), attrs=WIDE)
    invoices_count = tables.Column(
        verbose_name=_("Invoices"),
        attrs={"td": {"class": "num d-none d-sm-table-cell"}, "th": {"class": "num d-none d-sm-table-cell"}},
    )
    skipped_count = tables.Column(verbose_name=_("Skipped"), attrs=WIDE_NUM)
    failed_count = tables.Column(verbose_name=_("Failures"), attrs=WIDE_NUM)
    total_gross = MoneyColumn(verbose_name=_("Gross"))

    class Meta:
        model = BillingRun
        fields = [
            "period",
            "status",
            "started_by",
            "created_at",
            "invoices_count",
            "skipped_count",
            "failed_count",
            "total_gross",
        ]
        attrs = TABLE_ATTRS
        empty_text = _("No billing run matches the filter.")
        order_by = ("-period",)

    def render_period(self, value, record):
        return format_html(
            "{} <span class='text-body-secondary small'>#{}</span>", date_format(value, "F Y"), record.pk
        )

    def render_status(self, record):
        return render_to_string("billing/_status_badge.html", {"run": record})

    def render_started_by(self, record):
        if record.started_by is None:
            return record.get_trigger_display()
        return record.started_by.get_full_name() or record.started_by.username

    def render_created_at(self, value):
        return local_datetime(value)

    def render_failed_count(self, value):
        if value:
            return format_html('<span class="text-danger fw-semibold">{}</span>', value)
        return value


class BillingRunItemTable(tables.Table):
    number = tables.Column(verbose_name=_("Invoice"), accessor="document__number")
    payer = tables.Column(verbose_name=_("Payer"), accessor="payer__name")
    folder = tables.Column(verbose_name=_("Folder"), accessor="folder__number", empty_values=())
    lines_count = tables.Column(
        verbose_name=_("Lines"), attrs={"td": {"class": "num"}, "th": {"class": "num"}}
    )
    total_net = MoneyColumn(verbose_name=_("Net"))
    total_gross = MoneyColumn(verbose_name=_("Gross"))

    class Meta:
        model = BillingRunItem
        fields = ["number", "payer", "folder", "lines_count", "total_net", "total_gross"]
        attrs = TABLE_ATTRS
        empty_text = _("This run made no invoices.")
        order_by = ("number",)

    def render_number(self, value, record):
        return format_html(
            '<a href="{}">{}</a>', reverse("documents:detail", args=[record.document_id]), value
        )

    def render_payer(self, value, record):
        badge = ""
        if record.payer_id != record.customer_id:
            badge = format_html(' <span class="badge badge-financier">{}</span>', _("Financier"))
        return format_html(
            '<a href="{}">{}</a>{}', reverse("customers:detail", args=[record.payer_id]), value, badge
        )

    def render_folder(self, record):
        if record.folder_id is None:
            return format_html(
                '<span class="text-body-secondary">{}</span>',
                _("%(count)s folders (consolidated)") % {"count": record.folders_count},
            )
        return format_html(
            '<a href="{}">{}</a> {}',
            reverse("folders:detail", args=[record.folder_id]),
            record.folder.number,
            record.folder.name,
        )


class BillingRunSkipTable(tables.Table):
    folder = tables.Column(verbose_name=_("Folder"), accessor="folder__number")
    customer = tables.Column(verbose_name=_("Customer"), accessor="customer__name")
    reason = tables.Column(verbose_name=_("Reason"))
    message = tables.Column(verbose_name=_("Details"), empty_values=(), orderable=False)

    class Meta:
        model = BillingRunSkip
        fields = ["folder", "customer", "reason", "message"]
        attrs = TABLE_ATTRS
        empty_text = _("No folder was skipped.")
        order_by = ("reason",)

    def render_folder(self, value, record):
        return format_html(
            '<a href="{}">{}</a> {}',
            reverse("folders:detail", args=[record.folder_id]),
            value,
            record.folder.name,
        )

    def render_customer(self, value, record):
        return format_html(
            '<a href="{}">{}</a>', reverse("customers:detail", args=[record.customer_id]), value
        )

    def render_reason(self, record):
        css = "badge-hold" if record.reason == "hold" else "text-bg-light border"
        return format_html('<span class="badge {}">{}</span>', css, record.get_reason_display())

    def render_message(self, record):
        parts = [record.message] if record.message else []
        if record.until:
            parts.append(_("until %(date)s") % {"date": date_format(record.until, "SHORT_DATE_FORMAT")})
        return " · ".join(str(p) for p in parts) or "—"
