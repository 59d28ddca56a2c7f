"""Writes of the ledger: record a payment, apply credit, refund, book a return, add a fee.

Every write locks the payer's row first, so two clerks (or a statement import and a
clerk) booking money of the same payer at once are serialized and an invoice can never
be paid twice over. Amounts are checked against what is open *after* the lock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from customers.models import Customer
from documents.models import Document, DocumentKind, DocumentStatus
from organizations.audit import audit_entry, audit_log
from organizations.models import AuditEntry
from organizations.money import ZERO, money

from .mail import PLACEHOLDERS, template_problems
from .models import Allocation, Charge, ChargeKind, Payment, PaymentChannel, PaymentKind, PaymentMailSettings
from .selectors import charge_open_amounts, customer_credit, open_amounts, open_items, payments_with_credit

Receivable = Document | Charge


def lock_payer(payer: Customer) -> Customer:
    return Customer.objects.select_for_update().get(pk=payer.pk)


def _open_of(receivables: Sequence[Receivable]) -> dict[tuple[str, int], Decimal]:
    docs = [r for r in receivables if isinstance(r, Document)]
    charges = [r for r in receivables if isinstance(r, Charge)]
    result = {("document", k): v for k, v in open_amounts(docs).items()}
    result.update({("charge", k): v for k, v in charge_open_amounts(charges).items()})
    return result


def _key(receivable: Receivable) -> tuple[str, int]:
    return ("document" if isinstance(receivable, Document) else "charge", receivable.pk)


def _label(receivable: Receivable) -> str:
    return receivable.number if isinstance(receivable, Document) else receivable.text


def _check_receivable(receivable: Receivable, payer: Customer) -> None:
    if receivable.payer_id != payer.pk:
        raise ValidationError(_("%(item)s is addressed to another payer.") % {"item": _label(receivable)})
    if isinstance(receivable, Document) and (
        receivable.kind != DocumentKind.INVOICE or receivable.status == DocumentStatus.DRAFT
    ):
        raise ValidationError(_("Only issued invoices can be paid."))


def _allocate(
    payment: Payment, wanted: Sequence[tuple[Receivable, Decimal]], *, date: dt.date, available: Decimal
) -> list[Allocation]:
    """Allocate ``wanted`` from ``payment``, refusing more than is open or available."""
    opens = _open_of([r for r, _amount in wanted])
    rows = []
    for receivable, amount in wanted:
        amount = money(amount)
        if amount <= ZERO:
            raise ValidationError(_("An amount to apply must be more than zero."))
        key = _key(receivable)
        if amount > opens[key]:
            raise ValidationError(
                _("%(item)s has only %(open)s open.") % {"item": _label(receivable), "open": opens[key]}
            )
        if amount > available:
            raise ValidationError(_("The amounts to apply are more than the money available."))
        opens[key] -= amount
        available -= amount
        rows.append(
            Allocation(
                organization_id=payment.organization_id,
                payment=payment,
                document=receivable if isinstance(receivable, Document) else None,
                charge=receivable if isinstance(receivable, Charge) else None,
                amount=amount,
                date=date,
            )
        )
    return Allocation.objects.bulk_create(rows)


def oldest_first(payer: Customer, amount: Decimal, *, today: dt.date) -> list[tuple[Receivable, Decimal]]:
    """How an amount without instructions is applied: oldest due receivable first."""
    plan = []
    for item in open_items(today=today, payer=payer):
        if amount <= ZERO:
            break
        if item.open <= ZERO or item.pending_collection:
            continue
        take = min(item.open, amount)
        plan.append((item.invoice or item.charge, take))
        amount -= take
    return plan


@transaction.atomic
def payment_record(
    *,
    organization,
    payer: Customer,
    amount: Decimal,
    date: dt.date,
    channel: str,
    user,
    allocations: Sequence[tuple[Receivable, Decimal]] | None = None,
    reference: str = "",
    source_key: str = "",
    note: str = "",
) -> Payment:
    """Book money received from ``payer``. Without ``allocations`` it pays the oldest open
    items first; whatever is not applied stays as the payer's credit."""
    amount = money(amount)
    if amount <= ZERO:
        raise ValidationError(_("A payment must be more than zero."))
    if channel not in PaymentChannel.values:
        raise ValidationError(_("Unknown payment channel."))
    payer = lock_payer(payer)
    if source_key and Payment.objects.filter(source_key=source_key).exists():
        raise ValidationError(_("This payment has already been booked."))
    if allocations is None:
        allocations = oldest_first(payer, amount, today=date)
    for receivable, _amount in allocations:
        _check_receivable(receivable, payer)
    payment = Payment.objects.create(
        organization=organization,
        payer=payer,
        kind=PaymentKind.RECEIPT,
        channel=channel,
        amount=amount,
        date=date,
        reference=reference[:140],
        source_key=source_key,
        note=note,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    applied = _allocate(payment, allocations, date=date, available=amount)
    audit_log(
        organization=organization,
        user=user,
        action="payment.recorded",
        obj=payer,
        data={
            "amount": str(amount),
            "date": date.isoformat(),
            "channel": channel,
            "applied": {_label(a.document or a.charge): str(a.amount) for a in applied},
        },
    )
    return payment


@transaction.atomic
def credit_apply(
    *, organization, payer: Customer, receivable: Receivable, amount: Decimal, date: dt.date, user
) -> list[Allocation]:
    """Apply the payer's credit (money received and not yet applied) to a receivable."""
    payer = lock_payer(payer)
    _check_receivable(receivable, payer)
    amount = money(amount)
    credit = customer_credit(payer)
    if amount > credit:
        raise ValidationError(_("The payer has only %(credit)s credit.") % {"credit": credit})
    rows: list[Allocation] = []
    for payment, left in payments_with_credit(payer):
        if amount <= ZERO:
            break
        take = min(left, amount)
        rows += _allocate(payment, [(receivable, take)], date=date, available=left)
        amount -= take
    audit_log(
        organization=organization,
        user=user,
        action="payment.credit_applied",
        obj=payer,
        data={"item": _label(receivable), "amount": str(sum((r.amount for r in rows), ZERO))},
    )
    return rows


@transaction.atomic
def credit_refund(
    *, organization, payer: Customer, amount: Decimal, date: dt.date, user, reference: str = ""
) -> Payment:
    """Pay a credit balance back to the payer."""
    payer = lock_payer(payer)
    amount = money(amount)
    if amount <= ZERO:
        raise ValidationError(_("A refund must be more than zero."))
    credit = customer_credit(payer)
    if amount > credit:
        raise ValidationError(_("The payer has only %(credit)s credit.") % {"credit": credit})
    refund = Payment.objects.create(
        organization=organization,
        payer=payer,
        kind=PaymentKind.REFUND,
        channel=PaymentChannel.TRANSFER,
        amount=-amount,
        date=date,
        reference=reference[:140],
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    audit_log(
        organization=organization,
        user=user,
        action="payment.refunded",
        obj=payer,
        data={"amount": str(amount)},
    )
    return refund


@transaction.atomic
def return_record(
    *,
    organization,
    invoice: Document,
    amount: Decimal,
    date: dt.date,
    reason: str,
    user,
    fee: Decimal = ZERO,
    source_key: str = "",
    channel: str = PaymentChannel.DIRECT_DEBIT,
) -> Payment:
    """A collected amount came back (direct-debit return): the invoice is open again, and
    the organization's return fee, if any, is booked as a charge of its own."""
    payer = lock_payer(invoice.payer)
    amount = money(amount)
    if amount <= ZERO:
        raise ValidationError(_("A returned amount must be more than zero."))
    if source_key and Payment.objects.filter(source_key=source_key).exists():
        raise ValidationError(_("This return has already been booked."))
    paid = sum(
        (a.amount for a in Allocation.objects.filter(document=invoice)),
        ZERO,
    )
    if amount > paid:
        raise ValidationError(
            _("%(item)s has only %(paid)s paid; more cannot come back.")
            % {"item": invoice.number, "paid": paid}
        )
    returned = Payment.objects.create(
        organization=organization,
        payer=payer,
        kind=PaymentKind.RETURN,
        channel=channel,
        amount=-amount,
        date=date,
        reference=reason[:140],
        source_key=source_key,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    Allocation.objects.create(
        organization=organization, payment=returned, document=invoice, amount=-amount, date=date
    )
    if fee and money(fee) > ZERO:
        charge_add(
            organization=organization,
            payer=payer,
            kind=ChargeKind.RETURN_FEE,
            amount=fee,
            date=date,
            due_date=date,
            text=_("Return fee %(number)s") % {"number": invoice.number},
            document=invoice,
            user=user,
        )
    audit_log(
        organization=organization,
        user=user,
        action="payment.returned",
        obj=invoice,
        data={"amount": str(amount), "reason": reason},
    )
    return returned


def charge_add(
    *,
    organization,
    payer: Customer,
    kind: str,
    amount: Decimal,
    date: dt.date,
    due_date: dt.date,
    text: str,
    user,
    document: Document | None = None,
) -> Charge:
    amount = money(amount)
    if amount <= ZERO:
        raise ValidationError(_("A fee must be more than zero."))
    charge = Charge.objects.create(
        organization=organization,
        payer=payer,
        kind=kind,
        amount=amount,
        date=date,
        due_date=due_date,
        text=text[:200],
        document=document,
    )
    audit_log(
        organization=organization,
        user=user,
        action="payment.charge_added",
        obj=payer,
        data={"text": text, "amount": str(amount)},
    )
    return charge


def payment_mail_settings(organization) -> PaymentMailSettings:
    """The organization's payment e-mail settings (defaults until someone saves them)."""
    found = PaymentMailSettings.objects.filter(organization=organization).first()
    return found or PaymentMailSettings(organization=organization)


@transaction.atomic
def payment_mail_settings_update(
    *, organization, user, enabled: bool, subject: str, body: str
) -> PaymentMailSettings:
    problems = template_problems(subject) + template_problems(body)
    if problems:
        raise ValidationError(
            _("Unknown placeholder: %(names)s. Allowed: %(allowed)s.")
            % {
                "names": ", ".join("{" + p + "}" for p in problems),
                "allowed": ", ".join("{" + p + "}" for p in PLACEHOLDERS),
            }
        )
    found, _created = PaymentMailSettings.objects.update_or_create(
        organization=organization,
        defaults={"enabled": enabled, "subject": subject.strip(), "body": body.strip()},
    )
    audit_log(
        organization=organization,
        user=user,
        action="payment.mail_settings_changed",
        obj=organization,
        data={"enabled": enabled},
    )
    return found


def payment_confirmation_schedule(*, payment: Payment) -> bool:
    """After commit, e-mail the payer that the money arrived, unless switched off."""
    if not payment_mail_settings(payment.organization).enabled:
        return False
    from .tasks import send_payment_email

    payment_id, organization_id = payment.pk, payment.organization_id
    transaction.on_commit(lambda: send_payment_email.delay(payment_id, organization_id))
    return True


@dataclasses.dataclass(frozen=True)
class Receipt:
    """One payment for ``payments_record_many``: what ``payment_record`` takes, as data."""

    payer: Customer
    amount: Decimal
    date: dt.date
    channel: str
    allocations: tuple[tuple[Document, Decimal], ...]
    reference: str = ""
    source_key: str = ""


def lock_payers(payer_ids) -> None:
    """Lock many payers' rows, always in the same order (by pk), so two bulk writers
    that share payers wait for each other instead of deadlocking."""
    ids = sorted(set(payer_ids))
    for start in range(0, len(ids), 2000):
        list(Customer.objects.select_for_update().filter(pk__in=ids[start : start + 2000]).order_by("pk"))


@transaction.atomic
def payments_record_many(
    *, organization, receipts: Sequence[Receipt], user
) -> list[Payment | ValidationError]:
    """Book many receipts at once (a bank statement): the same rules as ``payment_record``
    - payers locked first, amounts checked against what is open after the lock, nothing
    booked twice - in a constant number of queries per thousand receipts. A receipt that
    breaks a rule is not booked; its place in the result holds the reason."""
    lock_payers(r.payer.pk for r in receipts)
    invoices = {doc.pk: doc for r in receipts for doc, _amount in r.allocations}
    opens: dict[int, Decimal] = {}
    ids = list(invoices)
    for start in range(0, len(ids), 2000):
        opens.update(open_amounts(invoices[pk] for pk in ids[start : start + 2000]))
    keys = [r.source_key for r in receipts if r.source_key]
    known: set[str] = set()
    for start in range(0, len(keys), 2000):
        known |= set(
            Payment.objects.filter(source_key__in=keys[start : start + 2000]).values_list(
                "source_key", flat=True
            )
        )
    results: list[Payment | ValidationError] = []
    for receipt in receipts:
        try:
            results.append(_receipt_checked(organization, receipt, opens, known, user))
        except ValidationError as exc:
            results.append(exc)
    payments = [p for p in results if isinstance(p, Payment)]
    Payment.objects.bulk_create(payments, batch_size=1000)
    rows = []
    entries = []
    for payment, receipt in zip(results, receipts, strict=True):
        if not isinstance(payment, Payment):
            continue
        for document, amount in receipt.allocations:
            rows.append(
                Allocation(
                    organization=organization,
                    payment=payment,
                    document=document,
                    amount=money(amount),
                    date=receipt.date,
                )
            )
        entries.append(
            audit_entry(
                organization=organization,
                user=user,
                action="payment.recorded",
                obj=receipt.payer,
                data={
                    "amount": str(payment.amount),
                    "date": receipt.date.isoformat(),
                    "channel": receipt.channel,
                    "applied": {doc.number: str(money(amount)) for doc, amount in receipt.allocations},
                },
            )
        )
    Allocation.objects.bulk_create(rows, batch_size=1000)
    AuditEntry.objects.bulk_create(entries, batch_size=1000)
    return results


def _receipt_checked(organization, receipt: Receipt, opens, known: set[str], user) -> Payment:
    amount = money(receipt.amount)
    if amount <= ZERO:
        raise ValidationError(_("A payment must be more than zero."))
    if receipt.channel not in PaymentChannel.values:
        raise ValidationError(_("Unknown payment channel."))
    if receipt.source_key and receipt.source_key in known:
        raise ValidationError(_("This payment has already been booked."))
    available = amount
    wanted: dict[int, Decimal] = {}
    for document, value in receipt.allocations:
        _check_receivable(document, receipt.payer)
        value = money(value)
        if value <= ZERO:
            raise ValidationError(_("An amount to apply must be more than zero."))
        if value > opens[document.pk] - wanted.get(document.pk, ZERO):
            raise ValidationError(
                _("%(item)s has only %(open)s open.") % {"item": document.number, "open": opens[document.pk]}
            )
        if value > available:
            raise ValidationError(_("The amounts to apply are more than the money available."))
        wanted[document.pk] = wanted.get(document.pk, ZERO) + value
        available -= value
    for pk, value in wanted.items():
        opens[pk] -= value
    if receipt.source_key:
        known.add(receipt.source_key)
    return Payment(
        organization=organization,
        payer=receipt.payer,
        kind=PaymentKind.RECEIPT,
        channel=receipt.channel,
        amount=amount,
        date=receipt.date,
        reference=receipt.reference[:140],
        source_key=receipt.source_key,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


def payment_confirmations_schedule(*, organization, payment_ids: Sequence[int]) -> bool:
    """After commit, e-mail each payer whose money arrived (one task for many payments)."""
    if not payment_ids or not payment_mail_settings(organization).enabled:
        return False
    from .tasks import send_payment_emails

    ids, organization_id = list(payment_ids), organization.pk
    transaction.on_commit(lambda: send_payment_emails.delay(ids, organization_id))
    return True
