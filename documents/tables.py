from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from organizations.tables import DEFAULT_PER_PAGE, TABLE_ATTRS, MoneyColumn
from organizations.templatetags.ui import money

from .extensions import list_columns_for
from .models import Document, DocumentKind

DATE = {"td": {"class": "text-nowrap"}}


class DocumentTable(tables.Table):
    number = tables.TemplateColumn(
        template_name="documents/_cell_number.html", verbose_name=_("Number"), order_by=("number",)
    )
    issue_date = tables.DateColumn(format="SHORT_DATE_FORMAT", verbose_name=_("Date"), attrs=DATE)
    customer = tables.TemplateColumn(
        template_name="documents/_cell_customer.html",
        verbose_name=_("Customer"),
        order_by=("customer__name",),
    )
    payer = tables.TemplateColumn(
        template_name="documents/_cell_payer.html", verbose_name=_("Payer"), order_by=("recipient_name",)
    )
    folder_label = tables.Column(verbose_name=_("Folder"), orderable=False, attrs={"td": {"class": "small"}})
    status = tables.TemplateColumn(
        template_name="documents/_cell_status.html", verbose_name=_("Status"), order_by=("status",)
    )
    due_date = tables.DateColumn(format="SHORT_DATE_FORMAT", verbose_name=_("Due"), attrs=DATE)
    valid_until = tables.DateColumn(format="SHORT_DATE_FORMAT", verbose_name=_("Valid until"), attrs=DATE)
    delivery_date = tables.DateColumn(format="SHORT_DATE_FORMAT", verbose_name=_("Delivered"), attrs=DATE)
    reference = tables.TemplateColumn(
        template_code="{% if record.cancels %}<a href=\"{% url 'documents:detail' record.cancels_id %}\">"
        "{{ record.cancels.number }}</a>{% endif %}",
        verbose_name=_("Invoice"),
        orderable=False,
    )
    total_net = MoneyColumn(verbose_name=_("Net"))
    total_gross = MoneyColumn(verbose_name=_("Gross"))

    def render_total_gross(self, value, record):
        # A financed quote's total is what the end customer pays once; what the financier
        # is invoiced stands below it, never added to it.
        financed = (record.financed_totals or {}).get("gross") if record.kind == DocumentKind.QUOTE else None
        if not financed:
            return money(value)
        return format_html(
            '{}<div class="small text-body-secondary">{} {}</div>',
            money(value),
            _("+ financed"),
            money(financed),
        )

    pdf = tables.TemplateColumn(
        template_name="documents/_cell_pdf.html",
        verbose_name="",
        orderable=False,
        attrs={"td": {"class": "text-end"}},
    )

    class Meta:
        model = Document
        fields = []
        sequence = (
            "number",
            "issue_date",
            "customer",
            "payer",
            "folder_label",
            "status",
            "due_date",
            "valid_until",
            "delivery_date",
            "reference",
            "total_net",
            "total_gross",
            "pdf",
        )
        # documents-table: app.css lets the less important columns give way on a phone.
        attrs = {**TABLE_ATTRS, "class": TABLE_ATTRS["class"] + " documents-table"}
        order_by = ("-issue_date",)
        empty_text = ""
        per_page = DEFAULT_PER_PAGE


# Columns that do not apply to a kind.
EXCLUDE_BY_KIND = {
    DocumentKind.QUOTE: ("due_date", "delivery_date", "reference", "payer"),
    DocumentKind.INVOICE: ("valid_until", "delivery_date", "reference"),
    DocumentKind.CREDIT_NOTE: ("valid_until", "delivery_date", "due_date"),
    DocumentKind.DELIVERY_NOTE: ("due_date", "valid_until", "reference", "payer", "total_net", "total_gross"),
    DocumentKind.DUNNING_LETTER: (
        "valid_until",
        "delivery_date",
        "reference",
        "payer",
        "folder_label",
        "total_net",
    ),
}


class ExtensionColumn(tables.Column):
    """A column another app registered (documents.extensions): its cells are computed for
    the page's rows at once by ``fill_extension_columns``."""

    def __init__(self, key: str, **kwargs):
        self.key = key
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("empty_values", ())
        kwargs.setdefault("accessor", "pk")
        super().__init__(**kwargs)

    def render(self, value, record, table):
        return mark_safe(getattr(table, "extension_cells", {}).get(self.key, {}).get(record.pk, ""))


def document_table(kind: str, data) -> DocumentTable:
    extra = [(c.key, ExtensionColumn(c.key, verbose_name=c.label)) for c in list_columns_for(kind)]
    table = DocumentTable(data, exclude=EXCLUDE_BY_KIND[kind], extra_columns=extra)
    if extra:
        # Before the PDF link, which stays the last column.
        names = [name for name in table.sequence if name != "pdf"]
        table.sequence = names + ["pdf"] if "pdf" in table.sequence else names
    return table


def fill_extension_columns(table: DocumentTable, kind: str) -> None:
    """Compute the registered columns' cells for the rows of the current page only."""
    columns = list_columns_for(kind)
    if not columns or not hasattr(table, "page"):
        return
    records = [row.record for row in table.page.object_list]
    table.extension_cells = {c.key: c.cells(records) for c in columns}


class DispatchTable(tables.Table):
    """Outbox rows: the document, how and to whom, how often tried, and the outcome."""

    document = tables.TemplateColumn(
        template_name="documents/_cell_dispatch_document.html",
        verbose_name=_("Document"),
        order_by=("document__number",),
    )
    payer = tables.Column(accessor="document__recipient_name", verbose_name=_("Payer"), orderable=False)
    channel = tables.Column(verbose_name=pgettext_lazy("dispatch", "Channel"))
    recipients = tables.TemplateColumn(
        template_code="{{ record.recipients|join:', ' }}",
        verbose_name=_("Recipients"),
        orderable=False,
        attrs={"td": {"class": "small"}},
    )
    status = tables.TemplateColumn(
        template_name="documents/_dispatch_status.html", verbose_name=_("Status"), order_by=("status",)
    )
    tries = tables.Column(verbose_name=_("Tries"), attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    updated_at = tables.DateTimeColumn(
        format="SHORT_DATETIME_FORMAT", verbose_name=_("Last change"), attrs=DATE
    )
    result = tables.Column(verbose_name=_("Result"), orderable=False, attrs={"td": {"class": "small"}})
    actions = tables.TemplateColumn(
        template_name="documents/_cell_dispatch_actions.html",
        verbose_name="",
        orderable=False,
        empty_values=(),
    )

    class Meta:
        attrs = {"class": "table table-hover align-middle mb-0 outbox-table"}
        per_page = DEFAULT_PER_PAGE
        empty_text = _("Nothing here: every document went out.")
