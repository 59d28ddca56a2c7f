"""Billing one chunk of billing accounts: plan its invoices, store them, record the rest.

`billing_chunk_execute` (task `billing_chunk_task`, one per chunk, on any worker)
works in ONE transaction that holds the chunk row's lock throughout (a chunk
delivered twice waits, then finds it done). In it, it plans the chunk's invoices with
the pure engine (billing.planning) - plain reads that lock no folder or line, so an
edit can land between planning and storing: billing days cannot change while the run
is active (billing.selectors.billing_day_change_check), a line edit locks the line,
judges on what the run committed and writes only its own fields (folders.services),
and what the database refuses fails one payer (below). Then it stores them:
invoices, lines and charges bulk-inserted, numbers taken as one contiguous block
under the number-range lock (documents.bulk),
`billed_through` moved forward, one-off lines marked invoiced, skips and failures
recorded, the chunk marked done and the run's counters raised. Every payer's invoice
is atomic: the chunk's insert runs in a savepoint, and if the database refuses it
(a charge already exists - UNIQUE (line, period start, kind) - or overlaps another
period of its line, a one-off line was invoiced meanwhile, or a line was deleted
meanwhile), it is rolled back and each invoice is stored in a savepoint of its own,
so only the payer concerned fails and is listed. Foreign keys are checked inside the
savepoint (`_checked_now`), not at commit, where a deleted line would fail the whole
chunk. Thousands of invoices cost one commit per chunk, not one each.

A document whose charges sum to less than zero is issued as a credit note that
references the invoices it corrects (`_document_spec`), never as a negative invoice.
Payer data is checked before writing (documents.bulk.invoice_problem), so a payer
without billing address is a failure of its own invoice only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from documents import bulk
from documents import services as document_services
from documents.models import Document, DocumentKind
from folders import services as folder_services
from folders.models import OneOffLine, RecurringLine
from organizations.bulk import insert_rows
from organizations.money import ZERO

from . import planning
from .models import (
    BillingCharge,
    BillingRun,
    BillingRunChunk,
    BillingRunFailure,
    BillingRunItem,
    BillingRunSkip,
    ChunkStatus,
    FailureReason,
    RunStatus,
)


def _plan(
    organization, customer_ids: Sequence[int], *, period: dt.date, as_of: dt.date
) -> list[planning.AccountPlan]:
    """The chunk's plan; an unexpected error in one account fails that account only."""
    return planning.plan_accounts(
        organization=organization, customer_ids=customer_ids, period=period, as_of=as_of
    )


def _heartbeat(chunk_id: int) -> None:
    """Stamp the chunk as being worked on now, committed at once (outside the chunk's
    transaction, which nobody else sees until it commits). Waits while another delivery
    of the chunk holds it, and then leaves a chunk that was done meanwhile alone."""
    BillingRunChunk.objects.filter(pk=chunk_id, status=ChunkStatus.PENDING).update(
        last_progress_at=timezone.now()
    )


class StaleOneOffs(Exception):
    """One-off lines of an invoice were invoiced by someone else since they were read."""


@contextlib.contextmanager
def _fewer_gc_pauses():
    """A chunk allocates millions of short-lived objects that reference counting frees;
    the cyclic collector's frequent young-generation passes over them cost ~10 % of a
    run. Collect less often while a chunk runs, as usual afterwards."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def billing_chunk_execute(*, run_id: int, chunk_id: int) -> BillingRunChunk:
    """Bill one chunk in one transaction (see the module docstring). Idempotent: a chunk
    already done is returned as it is; a rolled-back attempt left nothing behind."""
    with _fewer_gc_pauses():
        return _chunk_execute(run_id=run_id, chunk_id=chunk_id)


def _chunk_execute(*, run_id: int, chunk_id: int) -> BillingRunChunk:
    run = BillingRun.objects.select_related("organization", "started_by").get(pk=run_id)
    _heartbeat(chunk_id)
    with transaction.atomic():
        chunk = BillingRunChunk.objects.select_for_update().get(pk=chunk_id, run_id=run_id)
        if chunk.status == ChunkStatus.DONE or run.status != RunStatus.RUNNING:
            return chunk
        plans = _plan(run.organization, chunk.customer_ids, period=run.period, as_of=run.as_of)
        invoices = [invoice for plan in plans for invoice in plan.invoices]
        failures = [failure for plan in plans for failure in plan.failures]
        skips = [skip for plan in plans for skip in plan.skips]
        try:
            with transaction.atomic(), _checked_now():
                stored = _store(run, invoices)
        except (DatabaseError, ValidationError, StaleOneOffs):
            stored = []
            for invoice in invoices:
                try:
                    with transaction.atomic(), _checked_now():
                        stored += _store(run, [invoice])
                except (DatabaseError, ValidationError, StaleOneOffs) as exc:
                    failures.append(_concurrent_failure(invoice, exc))
        _record(run, skips, failures)
        net = sum((document.total_net for document in stored), ZERO)
        tax = sum((document.total_tax for document in stored), ZERO)
        gross = sum((document.total_gross for document in stored), ZERO)
        charges = sum(len(invoice.charges) for invoice in invoices if invoice.stored)
        chunk.status = ChunkStatus.DONE
        chunk.attempts += 1
        chunk.invoices_count = len(stored)
        chunk.finished_at = chunk.last_progress_at = timezone.now()
        chunk.save()
        BillingRun.objects.filter(pk=run.pk).update(
            last_progress_at=chunk.finished_at,
            payers_done=F("payers_done") + len(chunk.customer_ids),
            chunks_done=F("chunks_done") + 1,
            invoices_count=F("invoices_count") + len(stored),
            charges_count=F("charges_count") + charges,
            skipped_count=F("skipped_count") + len(skips),
            failed_count=F("failed_count") + len(failures),
            total_net=F("total_net") + net,
            total_tax=F("total_tax") + tax,
            total_gross=F("total_gross") + gross,
        )
    return chunk


@contextlib.contextmanager
def _checked_now():
    """Check foreign keys at each statement inside the caller's savepoint.

    They are deferred to commit by default, which is outside every payer's savepoint:
    a recurring line deleted while the chunk ran would fail the chunk's commit and with
    it every payer of the chunk. Checked here, it fails the savepoint of the payer whose
    charge refers to it, which is rolled back and listed. (SQLite runs one writer at a
    time: nothing can be deleted under a chunk there.)"""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    # Back to the default for the rest of the chunk; a savepoint rolled back undoes the
    # setting by itself.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _concurrent_failure(invoice: planning.PlannedInvoice, exc: Exception) -> planning.Failure:
    if isinstance(exc, ValidationError):
        message = " ".join(exc.messages)
    else:
        message = _(
            "Something was billed or invoiced by someone else during the run; run the month again "
            "to bill what is still due."
        )
    return planning.Failure(
        reason=FailureReason.CONCURRENT, message=message, payer=invoice.payer, folder=invoice.folder
    )


def _lock_oneoffs(invoices: Sequence[planning.PlannedInvoice]) -> None:
    ids = {line.pk for invoice in invoices for line in invoice.oneoffs}
    if not ids:
        return
    still_open = set(
        OneOffLine.objects.select_for_update()
        .filter(pk__in=ids, invoice_document_id__isnull=True)
        .values_list("pk", flat=True)
    )
    if still_open != ids:
        raise StaleOneOffs(sorted(ids - still_open))


def _document_spec(invoice: planning.PlannedInvoice) -> bulk.InvoiceSpec:
    """What to issue for a planned invoice: the invoice; or, when its charges sum to less
    than zero (a price cut, a line ended after it was billed in advance), a credit note
    that references the invoices whose periods it corrects - a negative invoice would
    name nothing it corrects and sit in the invoice range (§ 14 UStG, GoBD). Each credit
    line reverses the invoice line that billed its days, as a credit note by line does;
    the newest corrected invoice is the credit note's reference. Charges and credits
    together on one invoice stay an invoice as long as the total is positive."""
    spec = invoice.to_spec()
    if invoice.totals().gross >= ZERO:
        return spec
    reversed_lines = _reversed_lines(invoice)
    lines = list(spec.lines)
    for index, line_id in reversed_lines.items():
        lines[index] = dataclasses.replace(lines[index], reverses_id=line_id)
    corrects = list(
        Document.objects.filter(
            organization_id=invoice.payer.organization_id, lines__pk__in=set(reversed_lines.values())
        )
        .distinct()
        .order_by("issue_date", "pk")
    )
    return dataclasses.replace(spec, kind=DocumentKind.CREDIT_NOTE, lines=lines, corrects=corrects)


def _reversed_lines(invoice: planning.PlannedInvoice) -> dict[int, int]:
    """{index of a credit line: the invoice line that billed the days it credits}: the
    newest charge of the same recurring line and period covering its first day."""
    credits = [
        (index, line, charge) for index, line, charge, _version in invoice.charges if charge.amount < ZERO
    ]
    if not credits:
        return {}
    periods = Q()
    for _index, line, charge in credits:
        periods |= Q(recurring_line_id=line.pk, period_start=charge.period_start)
    billed = defaultdict(list)
    for row in (
        BillingCharge.objects.filter(periods, amount__gt=ZERO, document__kind=DocumentKind.INVOICE)
        .filter(organization_id=invoice.payer.organization_id, document_line__isnull=False)
        .order_by("-id")
        .values("recurring_line_id", "period_start", "service_start", "service_end", "document_line_id")
    ):
        billed[row["recurring_line_id"], row["period_start"]].append(row)
    found = {}
    for index, line, charge in credits:
        for row in billed[line.pk, charge.period_start]:
            if row["service_start"] <= charge.service_start <= row["service_end"]:
                found[index] = row["document_line_id"]
                break
    return found


def _store(run: BillingRun, invoices: Sequence[planning.PlannedInvoice]) -> list:
    """Issue `invoices` and store everything that belongs to them, in the caller's
    transaction; returns the documents."""
    if not invoices:
        return []
    organization = run.organization
    user = run.started_by
    _lock_oneoffs(invoices)
    specs = [_document_spec(invoice) for invoice in invoices]
    built = bulk.invoices_issue_bulk(
        organization=organization,
        specs=specs,
        user=user,
        issue_date=run.as_of,
        billing_run_id=run.pk,
        render_pdfs=run.render_pdfs,
    )
    charges: list[dict] = []
    items: list[dict] = []
    through: dict[dt.date, list[int]] = defaultdict(list)
    elsewhere: dict[dt.date, list[int]] = defaultdict(list)
    for invoice, (document, line_ids) in zip(invoices, built, strict=True):
        for index, line, charge, version in invoice.charges:
            charges.append(
                {
                    "organization_id": organization.pk,
                    "recurring_line_id": line.pk,
                    "period_start": charge.period_start,
                    "period_end": charge.period_end,
                    "kind": charge.kind,
                    "service_start": charge.service_start,
                    "service_end": charge.service_end,
                    "quantity": charge.quantity,
                    "unit_price": charge.unit_price,
                    "amount": charge.amount,
                    "reason": charge.description,
                    "terms_version": version,
                    "run_id": run.pk,
                    "document_id": document.pk,
                    "document_line_id": line_ids[index],
                }
            )
        for billing in invoice.lines:
            if billing.billed_through is not None and billing.billed_through != billing.line.billed_through:
                through[billing.billed_through].append(billing.line.pk)
            if billing.taken_over_through is not None:
                elsewhere[billing.taken_over_through].append(billing.line.pk)
        if invoice.oneoffs:
            folder_services.oneoff_lines_mark_invoiced(lines=invoice.oneoffs, document=document, user=user)
        folder = invoice.folder
        items.append(
            {
                "organization_id": organization.pk,
                "run_id": run.pk,
                "document_id": document.pk,
                "payer_id": invoice.payer.pk,
                "customer_id": invoice.customer.pk,
                "folder_id": folder.pk if folder is not None else None,
                "folders_count": len(invoice.folders),
                "lines_count": len(line_ids),
                "total_net": document.total_net,
                "total_gross": document.total_gross,
            }
        )
    # The database refuses a second charge for a line, period and kind (unique): if
    # someone billed one of these meanwhile, this raises and the savepoint rolls back.
    insert_rows(BillingCharge, charges, ids=False)
    # billed_through only moves forward, in this same transaction (one UPDATE per date).
    for day, line_ids in through.items():
        RecurringLine.objects.filter(pk__in=line_ids).filter(
            Q(billed_through__isnull=True) | Q(billed_through__lt=day)
        ).update(billed_through=day)
    # A line taken over from an earlier system keeps what was billed there settled for
    # good, however far this system's own billing moves on.
    for day, line_ids in elsewhere.items():
        RecurringLine.objects.filter(pk__in=line_ids, billed_elsewhere_through__isnull=True).update(
            billed_elsewhere_through=day
        )
    insert_rows(BillingRunItem, items, ids=False)
    _close_credited(run, [spec for spec in specs if spec.corrects])
    for invoice in invoices:
        invoice.stored = True
    return [document for document, _lines in built]


def _close_credited(run: BillingRun, credit_specs: Sequence[bulk.InvoiceSpec]) -> None:
    """An invoice the run's credit notes (with earlier ones) credited in full is closed,
    as a partial credit note reaching it would close it."""
    corrected = {document.pk: document for spec in credit_specs for document in spec.corrects}
    for document in corrected.values():
        document_services.invoice_close_if_credited(
            invoice=document,
            user=run.started_by,
            reason=_("Credited by billing run %(run)s.") % {"run": run},
        )


def _record(run: BillingRun, skips: Sequence[planning.Skip], failures: Sequence[planning.Failure]) -> None:
    insert_rows(
        BillingRunSkip,
        [
            {
                "organization_id": run.organization_id,
                "run_id": run.pk,
                "folder_id": skip.folder.pk,
                "customer_id": skip.folder.customer_id,
                "reason": skip.reason,
                "message": (skip.message or "")[:300],
                "until": skip.until,
            }
            for skip in skips
        ],
        ids=False,
    )
    insert_rows(
        BillingRunFailure,
        [
            {
                "organization_id": run.organization_id,
                "run_id": run.pk,
                "payer_id": failure.payer.pk if failure.payer else None,
                "folder_id": failure.folder.pk if failure.folder else None,
                "recurring_line_id": failure.line.pk if failure.line else None,
                "reason": failure.reason,
                "message": failure.message,
            }
            for failure in failures
        ],
        ids=False,
    )


def billing_chunk_fail(*, run_id: int, chunk_id: int, error: str) -> BillingRunChunk:
    """A chunk that kept failing: recorded, so the run can finish (as failed) and be
    resumed or run again; nothing of the chunk was stored."""
    with transaction.atomic():
        chunk = BillingRunChunk.objects.select_for_update().get(pk=chunk_id, run_id=run_id)
        if chunk.status == ChunkStatus.DONE:
            return chunk
        chunk.status = ChunkStatus.FAILED
        chunk.attempts += 1
        chunk.error = error[:2000]
        chunk.save()
    return chunk
