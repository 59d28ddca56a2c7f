"""Importing bank statements: every credit matched to the invoices it pays, every
returned direct debit reopening its invoice, and nothing booked twice.

Idempotency has two layers. The file's SHA-256 is unique per organization, so importing
the same file again finds the earlier import and changes nothing. Each entry's key
(``camt:<account>:<bank reference>``) is unique per organization as well: the rows are
inserted first with ``ON CONFLICT DO NOTHING``, so when two imports carry the same entry
(two clerks at once, or the day's camt.054 and the month's camt.053) only the one whose
row went in books it. The payment carries the same key, a second guard in the ledger.

Matching is deliberately cautious, because a wrong booking is worse than a question:
a credit is booked by itself only when its remittance text or end-to-end id names
invoices of one payer and the amount pays them exactly (or pays part of the one invoice
it names), or when the payer's IBAN is known and exactly one of its open invoices has
that amount. Everything else waits on the review page with the candidates it found.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from customers.models import Customer
from documents.models import Document
from organizations.audit import audit_log
from organizations.money import ZERO

from . import camt
from .mandates import payment_settings_for
from .models import (
    OPEN_ENTRY_STATUSES,
    Allocation,
    BankStatement,
    DirectDebitItem,
    EntryStatus,
    ImportStatus,
    ItemStatus,
    Payment,
    PaymentChannel,
    SepaMandate,
    StatementEntry,
)
from .selectors import open_amounts, receivable_invoices
from .services import (
    Receipt,
    lock_payers,
    payment_confirmation_schedule,
    payment_confirmations_schedule,
    payment_record,
    payments_record_many,
    return_record,
)

CHUNK = 2000
TOKEN = re.compile(r"[^\s,;:()\[\]]+")


def normalized(text: str) -> str:
    """An invoice number as banks mangle it: without separators, in capitals."""
    return re.sub(r"[^0-9A-Za-z]", "", text).upper()


@dataclasses.dataclass
class ImportResult:
    statement: BankStatement
    created: bool
    counts: dict[str, int]
    known: int = 0


@dataclasses.dataclass
class Decision:
    status: str
    note: str = ""
    payer_id: int | None = None
    candidates: list[int] = dataclasses.field(default_factory=list)
    # (invoice id, amount) to book, for a matched credit.
    allocations: list[tuple[int, Decimal]] = dataclasses.field(default_factory=list)
    return_invoice_id: int | None = None
    collection: DirectDebitItem | None = None


class Matcher:
    """Everything matching needs, loaded in a constant number of queries per statement."""

    def __init__(self, entries: list[StatementEntry]):
        numbers: dict[str, list[int]] = defaultdict(list)
        self.invoices: dict[int, tuple[int, str]] = {}
        for pk, number, payer_id in receivable_invoices().values_list("pk", "number", "payer_id"):
            numbers[normalized(number)].append(pk)
            self.invoices[pk] = (payer_id, number)
        self.numbers = numbers
        ibans = {e.counterparty_iban for e in entries if e.counterparty_iban}
        by_iban: dict[str, set[int]] = defaultdict(set)
        for iban_list in _chunks(sorted(ibans)):
            for pk, iban in Customer.objects.filter(iban__in=iban_list).values_list("pk", "iban"):
                by_iban[iban].add(pk)
            for pk, iban in SepaMandate.objects.filter(iban__in=iban_list).values_list("customer_id", "iban"):
                by_iban[iban].add(pk)
        self.payers_by_iban = by_iban
        e2e = {e.end_to_end_id for e in entries if e.end_to_end_id}
        self.collections: dict[str, DirectDebitItem] = {}
        for ids in _chunks(sorted(e2e)):
            for item in DirectDebitItem.objects.filter(end_to_end_id__in=ids).order_by("id"):
                # The latest collection of an end-to-end id is the one a return concerns.
                self.collections[item.end_to_end_id] = item
        self.references = {e.pk: self._references(e) for e in entries}
        self.named = {pk for refs in self.references.values() for pk in refs}
        self.named |= {item.document_id for item in self.collections.values()}
        self.open: dict[int, Decimal] = {}
        self.paid: dict[int, Decimal] = defaultdict(lambda: ZERO)
        self.by_payer: dict[int, list[int]] = defaultdict(list)

    def involved_payers(self) -> set[int]:
        """Every payer the statement may book for: the ones to lock before reading amounts."""
        return {self.invoices[pk][0] for pk in self.named} | {
            pk for pks in self.payers_by_iban.values() for pk in pks
        }

    def load_open(self) -> None:
        """Open and paid amounts of every invoice the statement can touch (named ones and
        those of payers known by IBAN), read after the payers are locked and kept current
        while entries are booked."""
        payer_ids = {pk for pks in self.payers_by_iban.values() for pk in pks}
        invoices = []
        for ids in _chunks(sorted(self.named)):
            invoices += list(receivable_invoices().filter(pk__in=ids).only("pk", "total_gross"))
        for ids in _chunks(sorted(payer_ids)):
            invoices += list(
                receivable_invoices()
                .filter(payer_id__in=ids)
                .exclude(pk__in=self.named)
                .only("pk", "total_gross")
            )
        for part in _chunks(invoices):
            self.open.update(open_amounts(part))
        for pk in sorted(self.open):
            self.by_payer[self.invoices[pk][0]].append(pk)
        for ids in _chunks(sorted(self.open)):
            for pk, amount in Allocation.objects.filter(document_id__in=ids).values_list(
                "document_id", "amount"
            ):
                self.paid[pk] += amount

    def _references(self, entry: StatementEntry) -> list[int]:
        found: list[int] = []
        tokens = TOKEN.findall(f"{entry.end_to_end_id} {entry.remittance}")
        keys = [normalized(t) for t in tokens]
        # A number split by line breaks or blanks ("RE 2026 00017") is found joined.
        singles = list(keys)
        keys += [a + b for a, b in zip(singles, singles[1:], strict=False)]
        keys += [a + b + c for a, b, c in zip(singles, singles[1:], singles[2:], strict=False)]
        for key in keys:
            for pk in self.numbers.get(key, ()) if len(key) >= 4 else ():
                if pk not in found:
                    found.append(pk)
        return found

    def decide(self, entry: StatementEntry) -> Decision:
        if entry.currency != "EUR":
            return Decision(EntryStatus.IGNORED, _("Not in euro."))
        if entry.amount < 0:
            return self._debit(entry)
        return self._credit(entry)

    def _credit(self, entry: StatementEntry) -> Decision:
        amount = entry.amount
        refs = [pk for pk in self.references[entry.pk] if pk in self.open]
        iban_payers = self.payers_by_iban.get(entry.counterparty_iban, set())
        if refs:
            payers = {self.invoices[pk][0] for pk in refs}
            if len(payers) > 1:
                return Decision(
                    EntryStatus.AMBIGUOUS, _("Names invoices of several payers."), candidates=refs
                )
            payer_id = payers.pop()
            open_refs = [pk for pk in refs if self.open[pk] > ZERO]
            total = sum((self.open[pk] for pk in open_refs), ZERO)
            if not open_refs:
                return Decision(
                    EntryStatus.AMBIGUOUS, _("The invoices named are paid already."), payer_id, refs
                )
            if amount == total:
                return Decision(
                    EntryStatus.MATCHED,
                    payer_id=payer_id,
                    candidates=refs,
                    allocations=[(pk, self.open[pk]) for pk in open_refs],
                )
            if len(open_refs) == 1 and amount < total:
                return Decision(
                    EntryStatus.MATCHED,
                    _("Partial payment."),
                    payer_id,
                    refs,
                    allocations=[(open_refs[0], amount)],
                )
            return Decision(
                EntryStatus.AMBIGUOUS,
                _("The amount differs from what the invoices named have open."),
                payer_id,
                refs,
            )
        if len(iban_payers) == 1:
            payer_id = next(iter(iban_payers))
            opens = [pk for pk in self.by_payer.get(payer_id, ()) if self.open[pk] > ZERO]
            exact = [pk for pk in opens if self.open[pk] == amount]
            if len(exact) == 1:
                return Decision(
                    EntryStatus.MATCHED,
                    _("Matched by the payer's IBAN and the amount."),
                    payer_id,
                    exact,
                    allocations=[(exact[0], amount)],
                )
            return Decision(
                EntryStatus.AMBIGUOUS,
                _("Payer known by the IBAN; no single invoice has this amount open."),
                payer_id,
                opens,
            )
        return Decision(EntryStatus.UNMATCHED, _("No invoice number and no known IBAN."))

    def _debit(self, entry: StatementEntry) -> Decision:
        if not entry.return_reason:
            return Decision(EntryStatus.IGNORED)
        item = self.collections.get(entry.end_to_end_id)
        invoice_id = item.document_id if item is not None else None
        if invoice_id is None:
            refs = self.references[entry.pk]
            invoice_id = refs[0] if len(refs) == 1 else None
        if invoice_id is None or invoice_id not in self.open:
            return Decision(EntryStatus.UNMATCHED, _("Return of a collection we cannot find."))
        payer_id = self.invoices[invoice_id][0]
        if item is not None and item.status == ItemStatus.PENDING:
            # The collection was never booked as paid: nothing to reverse, it just ends.
            return Decision(
                EntryStatus.RETURNED,
                _("Collection returned before it was settled."),
                payer_id,
                [invoice_id],
                collection=item,
            )
        if self.paid[invoice_id] < -entry.amount:
            return Decision(
                EntryStatus.UNMATCHED, _("The invoice has less paid than came back."), payer_id, [invoice_id]
            )
        return Decision(
            EntryStatus.RETURNED, "", payer_id, [invoice_id], return_invoice_id=invoice_id, collection=item
        )

    def booked(self, allocations: list[tuple[int, Decimal]]) -> None:
        for pk, amount in allocations:
            self.open[pk] -= amount
            self.paid[pk] += amount


def _chunks(items, size: int = CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def statement_receive(*, organization, data: bytes, file_name: str, user) -> ImportResult:
    """Store an uploaded CAMT file to be booked by a worker (``statement_book``).

    The file is read here already, so a file that is not a bank statement is refused at
    once with the reason and leaves nothing behind. A file imported before is found by its
    hash and changes nothing (``created`` is False)."""
    return _receive(organization=organization, data=data, file_name=file_name, user=user)[0]


def _parse(data: bytes) -> camt.CamtMessage:
    try:
        return camt.parse(data)
    except camt.CamtError as exc:
        raise ValidationError(str(exc)) from None


def _receive(
    *, organization, data: bytes, file_name: str, user
) -> tuple[ImportResult, camt.CamtMessage | None]:
    sha = hashlib.sha256(data).hexdigest()
    existing = BankStatement.objects.defer("content").filter(sha256=sha).first()
    if existing is not None:
        return ImportResult(existing, created=False, counts={}), None
    message = _parse(data)
    try:
        with transaction.atomic():
            statement = BankStatement.objects.create(
                organization=organization,
                file_name=file_name[:255],
                message_type=message.message_type,
                statement_id=message.statement_id,
                account_iban=message.account_iban,
                sha256=sha,
                content=data,
                date_from=message.date_from,
                date_to=message.date_to,
                entry_count=len(message.entries),
                import_status=ImportStatus.PENDING,
                created_by=user if getattr(user, "is_authenticated", False) else None,
            )
    except IntegrityError:
        # The same file, uploaded at this moment by someone else: theirs counts.
        return ImportResult(BankStatement.objects.get(sha256=sha), created=False, counts={}), None
    return ImportResult(statement, created=True, counts={}), message


def statement_book(
    *,
    statement: BankStatement,
    user,
    today: dt.date,
    bulk: bool = True,
    message: camt.CamtMessage | None = None,
) -> ImportResult:
    """Match and book the entries of a received statement, once.

    Marked "running" in a transaction of its own (so the statement page can say so), then
    booked in one transaction under the statement's row lock: a second worker that got
    the same task waits and then finds it done. A failure rolls the booking back and
    leaves the statement "failed" with the reason; it can be started again."""
    with transaction.atomic():
        current = BankStatement.objects.select_for_update().defer("content").get(pk=statement.pk)
        if current.import_status == ImportStatus.DONE:
            return ImportResult(current, created=False, counts={}, known=current.known_count)
        current.import_status, current.import_error = ImportStatus.RUNNING, ""
        current.save(update_fields=["import_status", "import_error"])
    try:
        return _statement_book(statement_id=statement.pk, user=user, bulk=bulk, message=message)
    except Exception as exc:
        reason = (
            " ".join(exc.messages) if isinstance(exc, ValidationError) else (str(exc) or type(exc).__name__)
        )
        BankStatement.objects.filter(pk=statement.pk, import_status=ImportStatus.RUNNING).update(
            import_status=ImportStatus.FAILED, import_error=reason[:2000]
        )
        raise


def _statement_book(*, statement_id: int, user, bulk: bool, message: camt.CamtMessage | None) -> ImportResult:
    with transaction.atomic():
        statement = BankStatement.objects.select_for_update().defer("content").get(pk=statement_id)
        if statement.import_status == ImportStatus.DONE:
            return ImportResult(statement, created=False, counts={}, known=statement.known_count)
        organization = statement.organization
        if message is None:
            message = _parse(
                bytes(BankStatement.objects.values_list("content", flat=True).get(pk=statement_id))
            )
        rows = [
            StatementEntry(
                organization=organization,
                statement=statement,
                source_key=e.key,
                amount=e.amount,
                currency=e.currency,
                booking_date=e.booking_date,
                value_date=e.value_date,
                bank_reference=e.bank_reference,
                end_to_end_id=e.end_to_end_id,
                remittance=e.remittance,
                counterparty_name=e.counterparty_name,
                counterparty_iban=e.counterparty_iban,
                return_reason=e.return_reason,
                status=EntryStatus.UNMATCHED,
                position=e.position,
            )
            for e in message.entries
        ]
        # Claims each entry's key; an entry another import holds is left to that import.
        # In key order, so two imports that share entries wait for each other instead of
        # deadlocking on the unique index.
        rows.sort(key=lambda row: row.source_key)
        StatementEntry.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        entries = list(StatementEntry.objects.filter(statement=statement).order_by("position"))
        known = len(rows) - len(entries)
        counts = entries_book(organization=organization, entries=entries, user=user, bulk=bulk)
        statement.known_count = known
        statement.import_status, statement.import_error = ImportStatus.DONE, ""
        statement.save(update_fields=["known_count", "import_status", "import_error"])
        audit_log(
            organization=organization,
            user=user,
            action="payment.statement_imported",
            obj=statement,
            data={"file": statement.file_name, "entries": len(entries), "known": known, **counts},
        )
    return ImportResult(statement, created=True, counts=counts, known=known)


def statement_import(
    *, organization, data: bytes, file_name: str, user, today: dt.date, bulk: bool = True
) -> ImportResult:
    """Receive and book a CAMT file at once (commands, benchmarks and tests; the upload
    page receives it and leaves the booking to a worker). A file imported before changes
    nothing."""
    received, message = _receive(organization=organization, data=data, file_name=file_name, user=user)
    if not received.created:
        return received
    return statement_book(statement=received.statement, user=user, today=today, bulk=bulk, message=message)


def statement_schedule(statement: BankStatement) -> None:
    """Hand a received statement to a worker once the upload is committed."""
    from .tasks import statement_book_task

    statement_id, organization_id = statement.pk, statement.organization_id
    transaction.on_commit(lambda: statement_book_task.delay(statement_id, organization_id))


def statement_retry(*, statement: BankStatement, user) -> BankStatement:
    """Start a failed import again."""
    with transaction.atomic():
        current = BankStatement.objects.select_for_update().defer("content").get(pk=statement.pk)
        if current.import_status != ImportStatus.FAILED:
            raise ValidationError(_("Only an import that failed can be started again."))
        current.import_status = ImportStatus.PENDING
        current.save(update_fields=["import_status"])
        audit_log(
            organization=current.organization,
            user=user,
            action="payment.statement_retried",
            obj=current,
            data={"file": current.file_name, "error": current.import_error},
        )
        statement_schedule(current)
    return current


def entries_book(*, organization, entries: list[StatementEntry], user, bulk: bool = True) -> dict[str, int]:
    """Match and book entries just stored; returns how many ended in each status.

    Credits are booked together (``payments_record_many``); ``bulk=False`` books each with
    ``payment_record`` instead, the plain path the bulk one is tested against. Returns
    come after the credits, each through ``return_record``: they are few."""
    matcher = Matcher(entries)
    lock_payers(matcher.involved_payers())
    matcher.load_open()
    payers = {
        c.pk: c
        for ids in _chunks(sorted(matcher.involved_payers()))
        for c in Customer.objects.filter(pk__in=ids)
    }
    invoices: dict[int, Document] = {}
    for ids in _chunks(sorted(matcher.named | set(matcher.open))):
        invoices.update({d.pk: d for d in Document.objects.filter(pk__in=ids)})
    credits: list[tuple[StatementEntry, Decision]] = []
    returns: list[tuple[StatementEntry, Decision]] = []
    for entry in entries:
        decision = matcher.decide(entry)
        entry.status = decision.status
        entry.note = decision.note[:200]
        entry.payer_id = decision.payer_id
        entry.candidates = decision.candidates[:50]
        if decision.status == EntryStatus.MATCHED:
            matcher.booked(decision.allocations)
            credits.append((entry, decision))
        elif decision.status == EntryStatus.RETURNED:
            if decision.return_invoice_id is not None:
                matcher.booked([(decision.return_invoice_id, entry.amount)])
            returns.append((entry, decision))
    receipts = [
        Receipt(
            payer=payers[decision.payer_id],
            amount=entry.amount,
            date=entry.booking_date,
            channel=PaymentChannel.DIRECT_DEBIT
            if entry.end_to_end_id in matcher.collections
            else PaymentChannel.TRANSFER,
            allocations=tuple((invoices[pk], amount) for pk, amount in decision.allocations),
            reference=entry.remittance or entry.end_to_end_id,
            source_key=entry.source_key,
        )
        for entry, decision in credits
    ]
    if bulk:
        booked = payments_record_many(organization=organization, receipts=receipts, user=user)
    else:
        booked = [_record_one(organization, receipt, user) for receipt in receipts]
    settled = []
    for (entry, _decision), payment in zip(credits, booked, strict=True):
        if isinstance(payment, ValidationError):
            entry.status = EntryStatus.AMBIGUOUS
            entry.note = " ".join(payment.messages)[:200]
            continue
        entry.payment = payment
        item = matcher.collections.get(entry.end_to_end_id)
        if item is not None and item.status == ItemStatus.PENDING:
            # A collection whose money arrived on the statement is settled by it.
            item.status = ItemStatus.SETTLED
            item.payment = payment
            settled.append(item)
    if settled:
        DirectDebitItem.objects.bulk_update(settled, ["status", "payment"], batch_size=1000)
    payment_confirmations_schedule(
        organization=organization, payment_ids=[p.pk for p in booked if isinstance(p, Payment)]
    )
    for entry, decision in returns:
        try:
            with transaction.atomic():
                entry.payment = _book_return(
                    organization=organization, entry=entry, decision=decision, invoices=invoices, user=user
                )
        except ValidationError as exc:
            entry.status = EntryStatus.AMBIGUOUS
            entry.note = " ".join(exc.messages)[:200]
            entry.payment = None
    _entries_save(entries)
    counts: dict[str, int] = defaultdict(int)
    for entry in entries:
        counts[entry.status] += 1
    return dict(counts)


def _entries_save(entries: list[StatementEntry]) -> None:
    """Write the outcome of every entry. One parameterized UPDATE run for all rows:
    bulk_update's CASE expressions cost seconds for a statement of 10,000 entries."""
    quote = connection.ops.quote_name
    candidates = StatementEntry._meta.get_field("candidates")
    sql = (
        f"UPDATE {quote(StatementEntry._meta.db_table)} SET {quote('status')} = %s, {quote('note')} = %s, "
        f"{quote('payer_id')} = %s, {quote('candidates')} = %s, {quote('payment_id')} = %s WHERE {quote('id')} = %s"
    )
    rows = [
        (
            e.status,
            e.note,
            e.payer_id,
            candidates.get_db_prep_save(e.candidates, connection),
            e.payment_id,
            e.pk,
        )
        for e in entries
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _record_one(organization, receipt: Receipt, user) -> Payment | ValidationError:
    try:
        with transaction.atomic():
            return payment_record(
                organization=organization,
                payer=receipt.payer,
                amount=receipt.amount,
                date=receipt.date,
                channel=receipt.channel,
                user=user,
                allocations=list(receipt.allocations),
                reference=receipt.reference,
                source_key=receipt.source_key,
            )
    except ValidationError as exc:
        return exc


def _invoice(pk: int, cache: dict[int, Document]) -> Document:
    if pk not in cache:
        cache[pk] = Document.objects.get(pk=pk)
    return cache[pk]


def _book_return(*, organization, entry, decision: Decision, invoices, user):
    item = decision.collection
    payment = None
    if decision.return_invoice_id is not None:
        payment = return_record(
            organization=organization,
            invoice=_invoice(decision.return_invoice_id, invoices),
            amount=-entry.amount,
            date=entry.booking_date,
            reason=entry.return_reason,
            user=user,
            fee=payment_settings_for(organization).return_fee or ZERO,
            source_key=entry.source_key,
        )
    if item is not None and item.status in (ItemStatus.PENDING, ItemStatus.SETTLED):
        item.status = ItemStatus.RETURNED
        item.return_reason = entry.return_reason
        item.returned_on = entry.booking_date
        item.save(update_fields=["status", "return_reason", "returned_on"])
    return payment


def _entry_for_review(entry: StatementEntry) -> StatementEntry:
    entry = StatementEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status not in OPEN_ENTRY_STATUSES or entry.payment_id:
        raise ValidationError(_("This entry has been dealt with already."))
    if entry.amount <= ZERO:
        raise ValidationError(_("Only money received can be assigned."))
    return entry


@transaction.atomic
def entry_assign(
    *, organization, entry: StatementEntry, payer: Customer, allocations: list[tuple], user
) -> StatementEntry:
    """Book a reviewed credit: to the invoices chosen by hand; what is not applied stays
    as the payer's credit (allocations empty: all of it, "unapplied cash")."""
    entry = _entry_for_review(entry)
    payment = payment_record(
        organization=organization,
        payer=payer,
        amount=entry.amount,
        date=entry.booking_date,
        channel=PaymentChannel.TRANSFER,
        user=user,
        allocations=allocations,
        reference=entry.remittance or entry.end_to_end_id,
        source_key=entry.source_key,
    )
    payment_confirmation_schedule(payment=payment)
    entry.payment = payment
    entry.payer = payer
    entry.status = EntryStatus.MATCHED if allocations else EntryStatus.UNAPPLIED
    entry.note = _("Assigned by hand.") if allocations else _("Left as the payer's credit.")
    entry.save(update_fields=["payment", "payer", "status", "note"])
    audit_log(
        organization=organization,
        user=user,
        action="payment.statement_entry_assigned",
        obj=entry.statement,
        data={"entry": entry.source_key, "payer": payer.name, "status": entry.status},
    )
    return entry
