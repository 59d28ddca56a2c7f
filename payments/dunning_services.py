"""Writes of dunning: levels, disputes, dunning stops, and approving a run.

Approving a run decides again, per payer, under the payer's row lock (the same lock every
payment takes), what is open and overdue: a payment booked after the proposal was shown,
even the same day, wins and its invoice is not dunned. Each payer's letter is made in a
savepoint of its own: one payer's problem (no address) is listed and the others go out.
The letter is a document (numbered, frozen, PDF) made by documents.dunning from plain
data; its fee is a receivable of its own (a Charge), never added to an invoice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import string
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, DeliveryMethod
from customers.selectors import invoice_recipient_emails
from documents import texts
from documents.dunning import DunnedItem, dunning_letter_issue
from documents.models import DispatchChannel, Document, DocumentKind, DocumentStatus
from documents.services import dispatch_queue, document_send
from organizations.audit import audit_log
from organizations.money import ZERO, money

from .dunning_engine import deadline as deadline_for
from .dunning_selectors import DEFAULT_LEVELS, PLACEHOLDERS, PayerProposal, dunning_proposal
from .models import (
    ChargeKind,
    DunningLetter,
    DunningLevel,
    DunningLevelPosition,
    DunningNotice,
    DunningRun,
    DunningStop,
    InvoiceDispute,
    LetterDelivery,
)
from .services import charge_add, lock_payer


def check_letter_text(text: str) -> None:
    """A letter text may use the placeholders {customer}, {total}, {deadline}, {fee}, {count}."""
    try:
        fields = [name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None]
    except ValueError:
        raise ValidationError(
            _("The text has an unmatched brace. Placeholders look like {total}."), code="bad_placeholder"
        ) from None
    unknown = sorted({name for name in fields if name not in PLACEHOLDERS})
    if unknown:
        raise ValidationError(
            _("Unknown placeholder %(names)s. Allowed: %(allowed)s.")
            % {
                "names": ", ".join(f"{{{n}}}" for n in unknown),
                "allowed": ", ".join(f"{{{n}}}" for n in PLACEHOLDERS),
            },
            code="bad_placeholder",
        )


@transaction.atomic
def dunning_levels_ensure(*, organization) -> list[DunningLevel]:
    """The organization's levels, the defaults stored on first use."""
    for position in DunningLevelPosition.values:
        DunningLevel.objects.get_or_create(
            organization=organization, position=position, defaults=DEFAULT_LEVELS[position]
        )
    return list(DunningLevel.objects.filter(organization=organization).order_by("position"))


FIELDS = ("enabled", "days", "fee", "payment_days", "text_de", "text_en")


@transaction.atomic
def dunning_levels_save(*, organization, user, values: dict[int, dict]) -> list[DunningLevel]:
    """Store the levels' settings (``values`` per position)."""
    levels = {lv.position: lv for lv in dunning_levels_ensure(organization=organization)}
    if not any(values.get(p, {}).get("enabled", levels[p].enabled) for p in levels):
        raise ValidationError(_("At least one dunning level must be in use."), code="no_level")
    changes = {}
    for position, data in values.items():
        level = levels[position]
        for name in ("text_de", "text_en"):
            if name in data:
                check_letter_text(data[name])
        before = {name: str(getattr(level, name)) for name in FIELDS}
        for name in FIELDS:
            if name in data:
                setattr(level, name, money(data[name]) if name == "fee" else data[name])
        level.full_clean()
        level.save()
        after = {name: str(getattr(level, name)) for name in FIELDS}
        diff = {k: [before[k], v] for k, v in after.items() if before[k] != v}
        if diff:
            changes[position] = diff
    if changes:
        audit_log(
            organization=organization,
            user=user,
            action="dunning.levels_changed",
            obj=organization,
            data={str(k): v for k, v in changes.items()},
        )
    return [levels[p] for p in sorted(levels)]


# --- disputes and stops ------------------------------------------------------------------


@transaction.atomic
def dispute_open(*, organization, invoice: Document, note: str, since: dt.date, user) -> InvoiceDispute:
    if invoice.kind != DocumentKind.INVOICE or invoice.status == DocumentStatus.DRAFT:
        raise ValidationError(_("Only an issued invoice can be disputed."), code="not_an_invoice")
    if not note.strip():
        raise ValidationError(_("Say what the customer disputes."), code="no_note")
    if InvoiceDispute.objects.filter(invoice=invoice, resolved_on__isnull=True).exists():
        raise ValidationError(
            _("Invoice %(number)s is already disputed.") % {"number": invoice.number}, code="already_disputed"
        )
    dispute = InvoiceDispute.objects.create(
        organization=organization,
        invoice=invoice,
        note=note.strip(),
        since=since,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    audit_log(
        organization=organization,
        user=user,
        action="dunning.dispute_opened",
        obj=invoice,
        data={"number": invoice.number, "note": dispute.note, "since": since.isoformat()},
    )
    return dispute


@transaction.atomic
def dispute_resolve(*, dispute: InvoiceDispute, on: dt.date, user) -> InvoiceDispute:
    dispute = InvoiceDispute.objects.select_for_update().get(pk=dispute.pk)
    if dispute.resolved_on is not None:
        raise ValidationError(_("The dispute is already resolved."), code="resolved")
    dispute.resolved_on = max(on, dispute.since)
    dispute.save(update_fields=["resolved_on"])
    audit_log(
        organization=dispute.organization,
        user=user,
        action="dunning.dispute_resolved",
        obj=dispute.invoice,
        data={"number": dispute.invoice.number, "resolved_on": dispute.resolved_on.isoformat()},
    )
    return dispute


@transaction.atomic
def dunning_stop_add(
    *, organization, customer: Customer, note: str, since: dt.date, until: dt.date | None, user
) -> DunningStop:
    if not note.strip():
        raise ValidationError(_("Say why the customer is not to be dunned."), code="no_note")
    if until is not None and until < since:
        raise ValidationError(_("The stop cannot end before it begins."), code="until_before_since")
    stop = DunningStop(
        organization=organization,
        customer=customer,
        note=note.strip(),
        since=since,
        until=until,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    stop.full_clean()
    stop.save()
    audit_log(
        organization=organization,
        user=user,
        action="dunning.stop_added",
        obj=customer,
        data={"note": stop.note, "since": since.isoformat(), "until": until.isoformat() if until else None},
    )
    return stop


@transaction.atomic
def dunning_stop_lift(*, stop: DunningStop, on: dt.date, user) -> DunningStop:
    stop = DunningStop.objects.select_for_update().get(pk=stop.pk)
    if stop.lifted_on is not None:
        raise ValidationError(_("The dunning stop is already lifted."), code="lifted")
    stop.lifted_on = on
    stop.save(update_fields=["lifted_on"])
    audit_log(
        organization=stop.organization,
        user=user,
        action="dunning.stop_lifted",
        obj=stop.customer,
        data={"lifted_on": on.isoformat()},
    )
    return stop


# --- the run --------------------------------------------------------------------------------


@dataclasses.dataclass
class RunResult:
    run: DunningRun | None
    letters: list[DunningLetter] = dataclasses.field(default_factory=list)
    # (payer name, why no letter): nothing to dun any more, or a refusal.
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)


class _SafeValues(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def letter_body(
    level: DunningLevel, *, language: str, payer: Customer, total, deadline: dt.date, count: int
) -> str:
    lang = texts.lang_of(language)
    template = level.text_en if lang == "en" else level.text_de
    values = _SafeValues(
        customer=payer.name,
        total=texts.eur(lang, total),
        deadline=texts.date(lang, deadline),
        fee=texts.eur(lang, level.fee),
        count=count,
    )
    return string.Formatter().vformat(template, (), values)


def _delivery_for(payer: Customer) -> str:
    """Post when the customer wants paper or has no e-mail address for documents."""
    if payer.delivery_method == DeliveryMethod.POST:
        return LetterDelivery.POST
    return LetterDelivery.EMAIL if invoice_recipient_emails(customer=payer) else LetterDelivery.POST


def _letter_for(
    *, organization, proposal: PayerProposal, run: DunningRun, today: dt.date, user
) -> DunningLetter:
    payer = proposal.payer
    level = proposal.level
    pay_by = deadline_for(today, level.payment_days)
    language = texts.lang_of(payer.language)
    items = [
        DunnedItem(
            text=item.invoice.number,
            open=item.open,
            date=item.invoice.issue_date,
            due_date=item.invoice.due_date,
        )
        for item in proposal.items
    ]
    items += [
        DunnedItem(text=fee.charge.text, open=fee.open, date=fee.charge.date) for fee in proposal.earlier_fees
    ]
    body = letter_body(
        level,
        language=language,
        payer=payer,
        total=proposal.total,
        deadline=pay_by,
        count=len(proposal.items),
    )
    document = dunning_letter_issue(
        organization=organization,
        payer=payer,
        level=level.position,
        items=items,
        fee=level.fee,
        body=body,
        deadline=pay_by,
        user=user,
        issue_date=today,
    )
    charge = None
    if level.fee > ZERO:
        charge = charge_add(
            organization=organization,
            payer=payer,
            kind=ChargeKind.DUNNING_FEE,
            amount=level.fee,
            date=today,
            due_date=pay_by,
            text=_("Dunning fee %(number)s") % {"number": document.number},
            document=document,
            user=user,
        )
    letter = DunningLetter.objects.create(
        organization=organization,
        run=run,
        document=document,
        payer=payer,
        level=level.position,
        fee=charge,
        delivery=_delivery_for(payer),
    )
    DunningNotice.objects.bulk_create(
        DunningNotice(
            organization=organization,
            letter=letter,
            invoice=item.invoice,
            level=item.level,
            date=today,
            open_amount=item.open,
        )
        for item in proposal.items
    )
    if letter.delivery == LetterDelivery.EMAIL:
        document_send(document=document, user=user)
    else:
        # Paper goes into the one list to print with the other documents sent by post.
        dispatch_queue(document=document, channel=DispatchChannel.POST, user=user)
    return letter


def dunning_run_approve(
    *, organization, user, payer_ids: Iterable[int], today: dt.date | None = None
) -> RunResult:
    """Make the letters for the chosen payers, each decided again under its row lock."""
    today = today or timezone.localdate()
    wanted = sorted(set(payer_ids))
    if not wanted:
        raise ValidationError(_("Choose at least one customer to dun."), code="nothing_chosen")
    result = RunResult(run=None)
    with transaction.atomic():
        run = DunningRun.objects.create(
            organization=organization,
            date=today,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        payers = Customer.objects.filter(organization=organization, pk__in=wanted).order_by("pk")
        for payer in payers:
            try:
                with transaction.atomic():
                    lock_payer(payer)
                    proposal = dunning_proposal(organization=organization, today=today, payer_ids=[payer.pk])
                    if not proposal.payers:
                        result.skipped.append((payer.name, _("nothing is due for dunning any more")))
                        continue
                    result.letters.append(
                        _letter_for(
                            organization=organization,
                            proposal=proposal.payers[0],
                            run=run,
                            today=today,
                            user=user,
                        )
                    )
            except ValidationError as exc:
                result.skipped.append((payer.name, " ".join(exc.messages)))
        if not result.letters:
            transaction.set_rollback(True)
            return result
        run.letters = len(result.letters)
        run.total = sum((letter.document.total_gross for letter in result.letters), ZERO)
        run.fees = sum((letter.fee.amount for letter in result.letters if letter.fee), ZERO)
        run.save(update_fields=["letters", "total", "fees"])
        audit_log(
            organization=organization,
            user=user,
            action="dunning.run_approved",
            obj=run,
            data={
                "letters": [letter.document.number for letter in result.letters],
                "total": str(run.total),
                "fees": str(run.fees),
            },
        )
        result.run = run
    return result
