"""The month-end billing run and what it leaves behind.

* `BillingRun` - one run of one organization for one month: status, who started it,
  progress counters and totals. At most one run per organization is queued or running
  (a partial unique index), so two workers can never bill the same lines at once.
* `BillingRunChunk` - the unit of fan-out: a slice of billing accounts (end customers)
  processed by one Celery task in one transaction. Its status makes the task idempotent:
  a redelivered task finds its chunk done and returns.
* `BillingRunItem`, `BillingRunSkip`, `BillingRunFailure` - what the run did for every
  folder: the invoice it made, or why it made none. They make a run explainable
  afterwards ("why did this folder get no invoice in November?").
* `BillingCharge` - one charge of a recurring line for one period (the engine's
  `Charge`, stored). UNIQUE (recurring line, period start, kind): a second charge for
  the same thing is impossible at the database level, whatever the code above does
  (DESIGN.md section 4, "The billing run is idempotent").
* `ContractAlert` - a contract-end or notice-deadline alert already raised for a folder
  (with its action and draft renewal quote), so the daily check raises each alert once.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from organizations.models import TenantModel, user_reference

ZERO = Decimal("0.00")


class RunStatus(models.TextChoices):
    PENDING = "pending", _("queued")
    # A dry run recorded for the audit trail (`bill --dry-run --record`): counts,
    # totals and skips as they would be, no invoice and no charge.
    PREVIEWED = "previewed", _("previewed")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


ACTIVE_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING)


class RunTrigger(models.TextChoices):
    MANUAL = "manual", _("started by hand")
    SCHEDULE = "schedule", _("scheduled")
    COMMAND = "command", _("command line")


# The query form of BillingRun.nothing_new.
NOTHING_NEW = {"status": "done", "invoices_count": 0, "failed_count": 0}


class BillingRun(TenantModel):
    """One billing run of an organization for one month.

    `period` is the first day of the run month: in-advance lines are billed for the
    period that starts in it, in-arrears lines for the period that ended before it
    (billing.engine). `as_of` is the day holds and billing-date overrides are judged
    on; it is fixed when the run starts, so a retried chunk decides the same way.
    """

    period = models.DateField(_("billing month"))
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING
    )
    trigger = models.CharField(
        _("started"), max_length=10, choices=RunTrigger.choices, default=RunTrigger.MANUAL
    )
    as_of = models.DateField(
        _("decision date"), help_text=_("Billing holds and billing dates are judged on this day.")
    )
    started_by = user_reference(_("started by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    payers_total = models.PositiveIntegerField(_("billing accounts"), default=0)
    payers_done = models.PositiveIntegerField(_("billing accounts done"), default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    invoices_count = models.PositiveIntegerField(_("invoices"), default=0)
    charges_count = models.PositiveIntegerField(_("charges"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped folders"), default=0)
    failed_count = models.PositiveIntegerField(_("failures"), default=0)
    total_net = models.DecimalField(_("net"), max_digits=16, decimal_places=2, default=ZERO)
    total_tax = models.DecimalField(_("VAT"), max_digits=16, decimal_places=2, default=ZERO)
    total_gross = models.DecimalField(_("gross"), max_digits=16, decimal_places=2, default=ZERO)
    # Run-level events (started, planned, finished, fatal errors) as {"at", "level", "message"};
    # written only by the run's own task, never concurrently by chunks.
    log = models.JSONField(_("log"), default=list, blank=True)
    # Why the run failed, for the staff: a system text (a code and its parameters, e.g.
    # the exception's class and message), shown in the reader's language. `error` keeps
    # the same text as written at the time, for searching; the traceback goes to the log.
    failure = models.JSONField(_("failure"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    # When the run last moved (planned, a chunk done, handed to the workers again): a
    # queued or running run that has not moved for BILLING_CHUNK_STALE_AFTER lost its
    # worker, and the scheduler hands it back (services.billing_run_stalled_resume).
    last_progress_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    # Render each invoice's PDF after commit (off for the benchmark and the demo seed:
    # they are then rendered on first send or download).
    render_pdfs = models.BooleanField(default=True)

    class Meta:
        ordering = ["-period", "-id"]
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")
        constraints = [
            # Two runs of one organization never run at once (the same month or not):
            # they would compete for the same lines. A finished or failed run does not
            # count, so a month can be run again (it bills only what is still due).
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(status__in=[s.value for s in ACTIVE_STATUSES]),
                name="billingrun_one_active_per_organization",
            ),
        ]
        indexes = [models.Index(fields=["organization", "period"], name="billingrun_org_period")]

    def __str__(self) -> str:
        return f"{self.period:%m/%Y} #{self.pk}"

    def clean(self):
        if self.period and self.period.day != 1:
            raise ValidationError(
                {"period": _("A billing run covers a month; its period starts on the 1st.")}
            )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def nothing_new(self) -> bool:
        """Done without an invoice or a failure (a month run again): it stays on record, so
        the scheduler sees the month as done and does not try every day, but the run list
        leaves it out (`NOTHING_NEW`), where it would only be noise."""
        return self.status == RunStatus.DONE and not self.invoices_count and not self.failed_count

    @property
    def can_resume(self) -> bool:
        """Queued or running (a lost task leaves it so), or failed after it was cut into
        chunks: resuming bills the chunks not done yet (each chunk is billed once)."""
        return self.is_active or (self.status == RunStatus.FAILED and self.chunks_total > 0)

    @property
    def progress_percent(self) -> int:
        if self.status == RunStatus.DONE:
            return 100
        if not self.payers_total:
            return 0
        return min(100, int(self.payers_done * 100 / self.payers_total))


class ChunkStatus(models.TextChoices):
    PENDING = "pending", _("queued")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class BillingRunChunk(TenantModel):
    """A slice of billing accounts, billed by one task in one transaction.

    `customer_ids` are the end customers whose folders this chunk bills (their own
    invoices and the financier invoices of their financed folders).
    """

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    customer_ids = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=ChunkStatus.choices, default=ChunkStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    invoices_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The chunk's heartbeat: stamped (committed on its own) when a worker starts on it,
    # when it is done, and when it is handed to the workers again. A pending chunk
    # whose heartbeat is older than the longest a chunk may take lost its worker.
    last_progress_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run_id", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="billingrunchunk_unique_index")]

    def __str__(self) -> str:
        return f"{self.run} chunk {self.index}"


class BillingRunItem(TenantModel):
    """An invoice a run issued: to whom, for which folder (empty when consolidated)."""

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="items")
    document = models.OneToOneField(
        "documents.Document", verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="billing_item"
    )
    payer = models.ForeignKey(
        "customers.Customer", verbose_name=_("payer"), on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    folder = models.ForeignKey(
        "folders.Folder",
        verbose_name=_("folder"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    folders_count = models.PositiveIntegerField(_("folders"), default=1)
    lines_count = models.PositiveIntegerField(_("lines"), default=0)
    total_net = models.DecimalField(_("net"), max_digits=14, decimal_places=2, default=ZERO)
    total_gross = models.DecimalField(_("gross"), max_digits=14, decimal_places=2, default=ZERO)

    class Meta:
        ordering = ["run_id", "id"]
        verbose_name = _("invoice of a billing run")
        verbose_name_plural = _("invoices of a billing run")

    def __str__(self) -> str:
        return f"{self.run}: {self.document_id}"


class SkipReason(models.TextChoices):
    HOLD = "hold", _("billing hold")
    SUSPENDED = "suspended", _("folder suspended")
    BILLING_DATE = "billing_date", _("billing date moved")
    TRIAL = "trial", _("trial")
    NOTHING_DUE = "nothing_due", _("nothing due")
    AWAITING_DELIVERY = "awaiting_delivery", _("awaiting delivery")
    FINANCING_REJECTED = "financing_rejected", _("financing rejected, folder terminated")


class BillingRunSkip(TenantModel):
    """A folder the run left out on purpose, with the reason (nothing is lost: its due
    periods are caught up by the first run after the reason ends)."""

    run = models.ForeignKey(
        BillingRun, on_delete=models.CASCADE, related_name="skips", db_index=False
    )  # see (run, reason)
    folder = models.ForeignKey(
        "folders.Folder", verbose_name=_("folder"), on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=SkipReason.choices)
    message = models.CharField(_("details"), max_length=300, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["run_id", "reason", "id"]
        verbose_name = _("skipped folder")
        verbose_name_plural = _("skipped folders")
        indexes = [models.Index(fields=["run", "reason"], name="billingrunskip_run_reason")]

    def __str__(self) -> str:
        return f"{self.folder_id}: {self.reason}"


class FailureReason(models.TextChoices):
    PAYER_DATA_MISSING = "payer_data_missing", _("payer data missing")
    CONFLICT = "conflict", _("needs a manual correction")
    CONCURRENT = "concurrent", _("changed during the run")
    ERROR = "error", _("error")


class BillingRunFailure(TenantModel):
    """An invoice (or one line of it) the run could not make. It never blocks the other
    payers; fixing the cause and running the month again bills what is still due."""

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="failures")
    payer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("payer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    folder = models.ForeignKey(
        "folders.Folder",
        verbose_name=_("folder"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    recurring_line = models.ForeignKey(
        "folders.RecurringLine",
        verbose_name=_("recurring line"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=20, choices=FailureReason.choices)
    message = models.TextField(_("details"), blank=True)

    class Meta:
        ordering = ["run_id", "id"]
        verbose_name = _("billing failure")
        verbose_name_plural = _("billing failures")

    def __str__(self) -> str:
        return f"{self.reason}: {self.message[:60]}"


class BillingCharge(TenantModel):
    """One charge of a recurring line for one period, as invoiced.

    The complete set of a line's charges is its billing history: the engine reconciles
    later changes against it (prorated credits and charges). (recurring_line,
    period_start, kind) is unique, so a period is charged at most once per kind even if
    two workers or two runs tried; on PostgreSQL an exclusion constraint also keeps two
    periods of one line from overlapping (billing/migrations/0002). `terms_version` is the newest RecurringLineChange id
    the line had when the charge was made: changes with a higher id were not seen yet,
    which tells the loader how far back it must reconcile.
    """

    # Indexed by the unique constraint below, which starts with this column.
    recurring_line = models.ForeignKey(
        "folders.RecurringLine",
        verbose_name=_("recurring line"),
        on_delete=models.PROTECT,
        related_name="charges",
        db_index=False,
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period until"))
    kind = models.CharField(_("kind"), max_length=40)
    service_start = models.DateField(_("service from"))
    service_end = models.DateField(_("service until"))
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit_price = models.DecimalField(_("price per period"), max_digits=14, decimal_places=4)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=20, blank=True)
    terms_version = models.BigIntegerField(default=0)
    # Not indexed: runs are never deleted, and every index costs on 60,000 inserts a month.
    run = models.ForeignKey(
        BillingRun,
        verbose_name=_("billing run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="charges",
        db_index=False,
    )
    document = models.ForeignKey(
        "documents.Document",
        verbose_name=_("invoice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    document_line = models.OneToOneField(
        "documents.DocumentLine",
        verbose_name=_("invoice line"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="billing_charge",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recurring_line_id", "period_start", "id"]
        verbose_name = _("billed charge")
        verbose_name_plural = _("billed charges")
        constraints = [
            models.UniqueConstraint(
                fields=["recurring_line", "period_start", "kind"],
                name="billingcharge_once_per_period_and_kind",
            ),
        ]
        indexes = [
            # The run reads each line's charges from its last billed period on.
            models.Index(fields=["recurring_line", "period_end"], name="billingcharge_line_period_end"),
        ]

    def __str__(self) -> str:
        return f"{self.recurring_line_id} {self.period_start} {self.kind}"


class AlertKind(models.TextChoices):
    TERM_END = "term_end", _("contract term ends")
    NOTICE_DEADLINE = "notice_deadline", _("notice deadline")


class ContractAlert(TenantModel):
    """A contract-end or notice-deadline alert raised for a folder: once per folder,
    kind and date (a renewed term has a new date and raises a new alert)."""

    folder = models.ForeignKey(
        "folders.Folder", verbose_name=_("folder"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AlertKind.choices)
    event_date = models.DateField(_("date"))
    action = models.ForeignKey(
        "customers.Action",
        verbose_name=_("action"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    quote = models.ForeignKey(
        "documents.Document",
        verbose_name=_("renewal quote"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event_date", "id"]
        verbose_name = _("contract alert")
        verbose_name_plural = _("contract alerts")
        constraints = [
            models.UniqueConstraint(fields=["folder", "kind", "event_date"], name="contractalert_once"),
        ]

    def __str__(self) -> str:
        return f"{self.folder_id} {self.kind} {self.event_date}"
