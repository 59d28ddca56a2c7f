from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from organizations.tables import DEFAULT_PER_PAGE, NUM, MoneyColumn

from .models import BankStatement, ImportStatus, Payment
from .selectors import AGEING_BUCKETS

DATE = {"td": {"class": "text-nowrap"}}


class PaymentTable(tables.Table):
    date = tables.DateColumn(format="SHORT_DATE_FORMAT", verbose_name=_("Date"), attrs=DATE)
    payer = tables.Column(verbose_name=_("Payer"), order_by=("payer__name",))
    kind = tables.Column(verbose_name=_("Kind"))
    channel = tables.Column(verbose_name=_("Channel"))
    reference = tables.Column(verbose_name=_("Reference"), attrs={"td": {"class": "small text-break"}})
    applied = tables.Column(verbose_name=_("Applied to"), accessor="pk", orderable=False)
    amount = MoneyColumn(verbose_name=_("Amount"))

    class Meta:
        model = Payment
        fields = []
        sequence = ("date", "payer", "kind", "channel", "reference", "applied", "amount")
        attrs = {"class": "table table-hover align-middle"}
        order_by = ("-date",)
        empty_text = ""
        per_page = DEFAULT_PER_PAGE

    def render_payer(self, value, record):
        url = reverse("payments:customer", args=[record.payer_id])
        return format_html('<a href="{}">{}</a>', url, value.name)

    def render_applied(self, value, record):
        rows = []
        for a in record.allocations.all():
            if a.document_id:
                rows.append((reverse("documents:detail", args=[a.document_id]), a.document.number))
            else:
                rows.append(("", a.charge.text))
        return format_html_join(", ", '<a href="{}">{}</a>', rows) if rows else "—"


class BucketColumn(MoneyColumn):
    """An ageing bucket: a dash where nothing is open, so the amounts stand out."""

    def render(self, value):
        return super().render(value) if value else "–"


class OpenItemsTable(tables.Table):
    """Per payer: what is open in each ageing bucket (rows are dicts from ageing_by_payer)."""

    payer_name = tables.Column(verbose_name=_("Customer"))
    count = tables.Column(verbose_name=_("Items"), attrs=NUM)

    class Meta:
        attrs = {"class": "table table-hover align-middle"}
        order_by = ("payer_name",)
        empty_text = ""
        per_page = DEFAULT_PER_PAGE

    def __init__(self, *args, **kwargs):
        extra = [(key, BucketColumn(verbose_name=label)) for key, label, *_r in AGEING_BUCKETS]
        extra.append(
            (
                "total",
                MoneyColumn(
                    verbose_name=_("Total open"),
                    attrs={"td": {"class": "num fw-semibold"}, "th": {"class": "num"}},
                ),
            )
        )
        super().__init__(*args, extra_columns=extra, **kwargs)

    def render_payer_name(self, value, record):
        url = reverse("payments:customer", args=[record["payer_id"]])
        return format_html('<a href="{}">{}</a>', url, value)


class StatementTable(tables.Table):
    statement_id = tables.Column(
        verbose_name=_("Statement"), linkify=("payments:statement", {"pk": tables.A("pk")}), empty_values=()
    )
    account_iban = tables.Column(verbose_name=_("Account"))
    date_from = tables.DateColumn(format="SHORT_DATE_FORMAT", verbose_name=_("From"), attrs=DATE)
    date_to = tables.DateColumn(format="SHORT_DATE_FORMAT", verbose_name=_("To"), attrs=DATE)
    message_type = tables.Column(verbose_name=_("Format"))
    entry_count = tables.Column(verbose_name=_("Entries"), attrs=NUM)
    to_review = tables.Column(verbose_name=_("To review"), attrs=NUM, orderable=False, empty_values=())
    created_at = tables.DateTimeColumn(
        format="SHORT_DATETIME_FORMAT", verbose_name=_("Imported at"), attrs=DATE
    )

    class Meta:
        model = BankStatement
        fields = []
        sequence = (
            "statement_id",
            "account_iban",
            "date_from",
            "date_to",
            "message_type",
            "entry_count",
            "to_review",
            "created_at",
        )
        attrs = {"class": "table table-hover align-middle"}
        order_by = ("-created_at",)
        empty_text = ""
        per_page = DEFAULT_PER_PAGE

    def render_statement_id(self, value, record):
        return value or record.file_name

    def render_to_review(self, value, record):
        # Until a worker has booked it, the statement's import state stands here.
        if record.import_status == ImportStatus.FAILED:
            return format_html(
                '<span class="badge text-bg-danger">{}</span>', record.get_import_status_display()
            )
        if record.import_status != ImportStatus.DONE:
            return format_html(
                '<span class="badge text-bg-info">{}</span>', record.get_import_status_display()
            )
        count = getattr(record, "open_count", 0)
        return format_html('<span class="badge text-bg-warning">{}</span>', count) if count else "—"
