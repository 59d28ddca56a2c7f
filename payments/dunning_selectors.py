"""Reads of dunning: the levels, what a run would dun today and why the rest is held back.

The proposal is derived from the ledger each time (open amounts, pending collections),
from open disputes and dunning stops, and from the notices of earlier letters; nothing
of it is stored until a run is approved.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from documents.models import Document, DocumentStatus
from organizations.money import ZERO

from .dunning_engine import HoldReason, InvoiceFacts, LevelRule, verdict
from .models import (
    Charge,
    ChargeKind,
    DunningLetter,
    DunningLevel,
    DunningLevelPosition,
    DunningNotice,
    DunningRun,
    DunningStop,
    InvoiceDispute,
)
from .selectors import charge_open_amounts, invoice_balances, receivable_invoices

HOLD_LABELS = {
    HoldReason.PAID: _("paid or credited"),
    HoldReason.PENDING: _("in a pending direct-debit collection"),
    HoldReason.DISPUTED: _("disputed"),
    HoldReason.STOPPED: _("dunning stop for the customer"),
    HoldReason.LAST_LEVEL: _("last dunning level reached"),
    HoldReason.WAITING: _("next level not yet due"),
    HoldReason.DUNNED_TODAY: _("already dunned today"),
}

# Level 1 is a friendly reminder without a fee: before it the debtor may not even be in
# default (§ 286 BGB), and a fee must not exceed the actual cost of a letter.
DEFAULT_LEVELS = {
    1: {
        "days": 7,
        "fee": Decimal("0.00"),
        "payment_days": 10,
        "text_de": (
            "sicher haben Sie es im Tagesgeschäft übersehen: Die folgenden Rechnungen sind noch offen. "
            "Bitte begleichen Sie den offenen Betrag von {total} bis zum {deadline}."
        ),
        "text_en": (
            "you have probably overlooked it: the following invoices are still open. Please pay the "
            "amount of {total} by {deadline}."
        ),
    },
    2: {
        "days": 14,
        "fee": Decimal("2.50"),
        "payment_days": 10,
        "text_de": (
            "leider konnten wir trotz unserer Zahlungserinnerung bis heute keinen Zahlungseingang feststellen. "
            "Bitte überweisen Sie den Gesamtbetrag von {total} einschließlich der Mahngebühr bis zum {deadline}."
        ),
        "text_en": (
            "despite our payment reminder we have not yet received your payment. Please transfer the total of "
            "{total}, including the dunning fee, by {deadline}."
        ),
    },
    3: {
        "days": 14,
        "fee": Decimal("5.00"),
        "payment_days": 7,
        "text_de": (
            "trotz unserer Mahnung sind die folgenden Posten weiterhin offen. Bitte überweisen Sie den "
            "Gesamtbetrag von {total} bis spätestens {deadline}. Nach Ablauf dieser Frist werden wir die "
            "Forderung ohne weitere Ankündigung gerichtlich geltend machen oder einem Inkassobüro übergeben."
        ),
        "text_en": (
            "despite our dunning notice the following items are still open. Please transfer the total of "
            "{total} by {deadline} at the latest. After that date we will pursue the claim in court or hand "
            "it to a collection agency without further notice."
        ),
    },
}

PLACEHOLDERS = ("customer", "total", "deadline", "fee", "count")


def dunning_levels(organization) -> list[DunningLevel]:
    """The organization's three levels; unsaved defaults where none are stored yet."""
    stored = {level.position: level for level in DunningLevel.objects.filter(organization=organization)}
    return [
        stored.get(position)
        or DunningLevel(organization=organization, position=position, **DEFAULT_LEVELS[position])
        for position in DunningLevelPosition.values
    ]


def level_rules(levels) -> list[LevelRule]:
    return [LevelRule(position=lv.position, days=lv.days, enabled=lv.enabled) for lv in levels]


def open_dispute_ids(invoice_ids) -> set[int]:
    return set(
        InvoiceDispute.objects.filter(invoice_id__in=list(invoice_ids), resolved_on__isnull=True).values_list(
            "invoice_id", flat=True
        )
    )


def stopped_payer_ids(*, today: dt.date, payer_ids=None) -> set[int]:
    stops = DunningStop.objects.filter(since__lte=today)
    if payer_ids is not None:
        stops = stops.filter(customer_id__in=list(payer_ids))
    return {stop.customer_id for stop in stops if stop.applies_on(today)}


def active_stop(customer, *, today: dt.date) -> DunningStop | None:
    return next((s for s in DunningStop.objects.filter(customer=customer) if s.applies_on(today)), None)


def open_dispute(invoice) -> InvoiceDispute | None:
    return InvoiceDispute.objects.filter(invoice=invoice, resolved_on__isnull=True).first()


def last_notices(invoice_ids) -> dict[int, tuple[int, dt.date]]:
    """Per invoice: the highest level it was dunned at and the date of that letter."""
    rows = (
        DunningNotice.objects.filter(invoice_id__in=list(invoice_ids))
        .values("invoice_id")
        .annotate(level=Max("level"), last=Max("date"))
        .values_list("invoice_id", "level", "last")
    )
    return {invoice_id: (level, last) for invoice_id, level, last in rows}


@dataclasses.dataclass(frozen=True)
class DunnedInvoice:
    invoice: Document
    open: Decimal
    level: int
    last_level: int
    days_overdue: int


@dataclasses.dataclass(frozen=True)
class HeldInvoice:
    invoice: Document
    open: Decimal
    reason: str
    last_level: int
    next_on: dt.date | None = None

    @property
    def reason_label(self) -> str:
        return str(HOLD_LABELS[self.reason])


@dataclasses.dataclass(frozen=True)
class EarlierFee:
    charge: Charge
    open: Decimal


@dataclasses.dataclass(frozen=True)
class PayerProposal:
    payer: Customer
    items: list[DunnedInvoice]
    earlier_fees: list[EarlierFee]
    level: DunningLevel

    @property
    def fee(self) -> Decimal:
        return self.level.fee

    @property
    def invoices_open(self) -> Decimal:
        return sum((item.open for item in self.items), ZERO)

    @property
    def total(self) -> Decimal:
        return self.invoices_open + sum((f.open for f in self.earlier_fees), ZERO) + self.fee


@dataclasses.dataclass(frozen=True)
class Proposal:
    today: dt.date
    payers: list[PayerProposal]
    held: list[HeldInvoice]
    levels: list[DunningLevel]

    @property
    def total(self) -> Decimal:
        return sum((p.total for p in self.payers), ZERO)


def dunning_proposal(*, organization, today: dt.date, payer_ids=None) -> Proposal:
    """Per payer, the overdue invoices a run would dun today and the level of each; the
    letter takes the highest of them. Overdue invoices held back are listed with why.
    Cancelled and fully credited invoices are not receivables and never appear."""
    levels = dunning_levels(organization)
    by_position = {lv.position: lv for lv in levels}
    rules = level_rules(levels)
    invoices = (
        receivable_invoices()
        .filter(organization=organization, due_date__lt=today)
        .exclude(status=DocumentStatus.CANCELLED)
        .select_related("payer")
        .order_by("payer__name", "payer_id", "due_date", "number")
    )
    if payer_ids is not None:
        invoices = invoices.filter(payer_id__in=list(payer_ids))
    invoices = list(invoices)
    ids = [i.pk for i in invoices]
    balances = invoice_balances(invoices, today=today)
    disputed = open_dispute_ids(ids)
    stopped = stopped_payer_ids(today=today, payer_ids={i.payer_id for i in invoices})
    notices = last_notices(ids)
    per_payer: dict[int, list[DunnedInvoice]] = defaultdict(list)
    payers: dict[int, Customer] = {}
    held: list[HeldInvoice] = []
    for balance in balances:
        invoice = balance.invoice
        if balance.gross + balance.credited <= ZERO:
            continue  # credited in full: nothing was ever owed
        last_level, last_on = notices.get(invoice.pk, (0, None))
        facts = InvoiceFacts(
            due_date=invoice.due_date,
            open=balance.open,
            last_level=last_level,
            last_dunned_on=last_on,
            pending_collection=balance.state == "collection_pending",
            disputed=invoice.pk in disputed,
            stopped=invoice.payer_id in stopped,
        )
        result = verdict(facts, rules, today)
        if result.level is None:
            if result.hold != HoldReason.PAID:
                held.append(HeldInvoice(invoice, balance.open, result.hold, last_level, result.next_on))
            continue
        payers[invoice.payer_id] = invoice.payer
        per_payer[invoice.payer_id].append(
            DunnedInvoice(
                invoice=invoice,
                open=balance.open,
                level=result.level,
                last_level=last_level,
                days_overdue=(today - invoice.due_date).days,
            )
        )
    fees = _earlier_fees(list(per_payer))
    proposals = [
        PayerProposal(
            payer=payers[payer_id],
            items=items,
            earlier_fees=fees.get(payer_id, []),
            level=by_position[max(item.level for item in items)],
        )
        for payer_id, items in per_payer.items()
    ]
    return Proposal(today=today, payers=proposals, held=held, levels=levels)


def _earlier_fees(payer_ids) -> dict[int, list[EarlierFee]]:
    """Dunning fees of earlier letters still open: the new letter reminds of them too."""
    charges = list(
        Charge.objects.filter(payer_id__in=payer_ids, kind=ChargeKind.DUNNING_FEE, waived=False).order_by(
            "date", "id"
        )
    )
    opens = charge_open_amounts(charges)
    result: dict[int, list[EarlierFee]] = defaultdict(list)
    for charge in charges:
        if opens[charge.pk] > ZERO:
            result[charge.payer_id].append(EarlierFee(charge, opens[charge.pk]))
    return result


def dunning_runs():
    return DunningRun.objects.select_related("created_by").order_by("-date", "-id")


def run_letters(run: DunningRun):
    return (
        DunningLetter.objects.filter(run=run)
        .select_related("document", "payer", "fee")
        .prefetch_related("notices__invoice")
        .order_by("id")
    )


def letters_to_print():
    """Letters by post still waiting in the list to print (the documents' outbox)."""
    return (
        DunningLetter.objects.filter(
            delivery="post",
            document__dispatches__channel="post",
            document__dispatches__status="queued",
        )
        .distinct()
        .select_related("document", "payer", "run")
        .order_by("id")
    )


def invoice_dunning_history(invoice) -> list[DunningNotice]:
    return list(
        DunningNotice.objects.filter(invoice=invoice)
        .select_related("letter__document")
        .order_by("date", "id")
    )


def disputes():
    return InvoiceDispute.objects.select_related("invoice", "invoice__payer", "created_by").order_by(
        "resolved_on", "-since", "-id"
    )


def dunning_stops():
    return DunningStop.objects.select_related("customer", "created_by").order_by("lifted_on", "-since", "-id")
