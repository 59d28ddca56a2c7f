"""SEPA mandates: create, amend, revoke, expire; which mandate a collection uses.

A mandate is the debtor's signed permission to collect. Its reference is unique per
creditor (here: per organization, which has one creditor id) and written only with the
SEPA characters. Changing the debtor's IBAN or the reference of a mandate that was
already used is an *amendment*: the old values are kept in ``original_*`` and the next
collection reports them (AmdmntInd with AmdmntInfDtls), after which they are cleared.
A mandate not used for 36 months lapses (EPC rulebook) and cannot be collected.

The customer row keeps a copy of its own (folder-less) active mandate's reference,
signature date, IBAN and BIC, because the invoice, issued by documents (which cannot
import payments), prints them as the pre-notification; these services keep it current.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from customers.models import Customer
from documents.extensions import MandateOnFile
from organizations.audit import audit_log
from organizations.validators import bic_for_iban, normalize_iban, validate_bic, validate_iban

from .models import MandateScheme, MandateStatus, PaymentSettings, SepaMandate
from .sepa_text import NAME_MAX, reference_problem

EXPIRY_MONTHS = 36


def payment_settings_for(organization) -> PaymentSettings:
    settings, _created = PaymentSettings.objects.get_or_create(organization=organization)
    return settings


def _add_months(day: dt.date, months: int) -> dt.date:
    year, index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = index + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def mandate_expires_on(mandate: SepaMandate) -> dt.date:
    """The day a mandate lapses: 36 months after its last collection (or its signature,
    when it was never used)."""
    return _add_months(mandate.last_collected_on or mandate.signed_on, EXPIRY_MONTHS)


def mandate_refusal(mandate: SepaMandate | None, day: dt.date) -> str | None:
    """Why ``mandate`` cannot be collected on ``day`` (None when it can)."""
    if mandate is None:
        return _("no active SEPA mandate")
    if mandate.status == MandateStatus.REVOKED:
        return _("mandate %(reference)s was revoked") % {"reference": mandate.reference}
    if mandate.status == MandateStatus.EXPIRED or day >= mandate_expires_on(mandate):
        return _("mandate %(reference)s expired (unused for 36 months)") % {"reference": mandate.reference}
    if mandate.signed_on > day:
        return _("mandate %(reference)s is signed after the collection date") % {
            "reference": mandate.reference
        }
    problem = reference_problem(mandate.reference)
    if problem:
        return _("mandate reference “%(reference)s” has characters SEPA does not allow") % {
            "reference": mandate.reference
        }
    try:
        IBAN(mandate.iban)
    except SchwiftyException:
        return _("the IBAN %(iban)s of mandate %(reference)s is not valid") % {
            "iban": mandate.iban,
            "reference": mandate.reference,
        }
    return None


def mandate_valid_on(day: dt.date) -> QuerySet[SepaMandate]:
    """Mandates that may be collected on ``day``: active, signed, used (or signed) within
    the last 36 months."""
    cutoff = _add_months(day, -EXPIRY_MONTHS)
    return SepaMandate.objects.filter(status=MandateStatus.ACTIVE, signed_on__lte=day).filter(
        Q(last_collected_on__gt=cutoff) | Q(last_collected_on__isnull=True, signed_on__gt=cutoff)
    )


def mandates_for(payer_ids, *, day: dt.date) -> dict[tuple[int, int | None], SepaMandate]:
    """Per (customer, folder or None) the newest active mandate, or, when none is active,
    the newest one (so a collection can say that it was revoked or expired)."""
    found: dict[tuple[int, int | None], SepaMandate] = {}
    rows = SepaMandate.objects.filter(customer_id__in=list(payer_ids)).order_by("signed_on", "id")
    for mandate in rows:
        key = (mandate.customer_id, mandate.folder_id)
        current = found.get(key)
        if (
            current is None
            or mandate.status == MandateStatus.ACTIVE
            or current.status != MandateStatus.ACTIVE
        ):
            found[key] = mandate
    return found


def mandate_for_invoice(mandates: dict, *, payer_id: int, folder_id: int | None) -> SepaMandate | None:
    """A folder's own mandate wins over the customer's."""
    if folder_id is not None and (payer_id, folder_id) in mandates:
        return mandates[(payer_id, folder_id)]
    return mandates.get((payer_id, None))


def _clean(*, reference: str, iban: str, bic: str, debtor_name: str, signed_on: dt.date, today: dt.date):
    errors: dict[str, list[str]] = {}
    reference = (reference or "").strip()
    problem = reference_problem(reference)
    if problem == "empty":
        errors["reference"] = [_("Enter the mandate reference.")]
    elif problem:
        errors["reference"] = [
            _(
                "A mandate reference has at most 35 characters: letters A-Z without umlauts, digits, "
                "spaces inside and + ? / - : ( ) . , ' (no “//”)."
            )
        ]
    iban = normalize_iban(iban)
    try:
        validate_iban(iban)
    except ValidationError as exc:
        errors["iban"] = exc.messages
    bic = re.sub(r"\s+", "", bic or "").upper()
    if bic:
        try:
            validate_bic(bic)
        except ValidationError as exc:
            errors["bic"] = exc.messages
    if "iban" not in errors and "bic" not in errors:
        try:
            bic = bic_for_iban(iban, bic)
        except ValidationError as exc:
            errors["bic"] = exc.messages
    if not (debtor_name or "").strip():
        errors["debtor_name"] = [_("Enter the account holder's name.")]
    if signed_on and signed_on > today:
        errors["signed_on"] = [_("The mandate cannot be signed in the future.")]
    if errors:
        raise ValidationError(errors)
    return reference, iban, bic, debtor_name.strip()[:NAME_MAX]


def _sync_customer(mandate: SepaMandate) -> None:
    """Copy a customer's own active mandate onto the customer row (read by the invoice)."""
    if mandate.folder_id is not None or mandate.status != MandateStatus.ACTIVE:
        return
    Customer.objects.filter(pk=mandate.customer_id).update(
        iban=mandate.iban,
        bic=mandate.bic,
        mandate_reference=mandate.reference,
        mandate_signed_on=mandate.signed_on,
    )


def _unique_reference(organization, reference: str, *, exclude: int | None = None) -> None:
    qs = SepaMandate.objects.filter(organization=organization, reference=reference)
    if exclude:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise ValidationError(
            {
                "reference": [
                    _("The mandate reference %(reference)s is already used.") % {"reference": reference}
                ]
            }
        )


@transaction.atomic
def mandate_create(
    *,
    organization,
    customer: Customer,
    reference: str,
    signed_on: dt.date,
    iban: str,
    debtor_name: str,
    user,
    today: dt.date,
    bic: str = "",
    scheme: str = MandateScheme.CORE,
    folder=None,
    prenotification_days: int | None = None,
) -> SepaMandate:
    if customer.organization_id != organization.pk or (
        folder is not None and folder.customer_id != customer.pk
    ):
        raise ValidationError(_("The folder belongs to another customer."))
    if scheme not in MandateScheme.values:
        raise ValidationError({"scheme": [_("Choose SEPA Core or SEPA B2B.")]})
    reference, iban, bic, debtor_name = _clean(
        reference=reference, iban=iban, bic=bic, debtor_name=debtor_name, signed_on=signed_on, today=today
    )
    _unique_reference(organization, reference)
    try:
        with transaction.atomic():
            mandate = SepaMandate.objects.create(
                organization=organization,
                customer=customer,
                folder=folder,
                reference=reference,
                signed_on=signed_on,
                scheme=scheme,
                debtor_name=debtor_name,
                iban=iban,
                bic=bic,
                prenotification_days=prenotification_days,
            )
    except IntegrityError:
        raise ValidationError(
            {
                "reference": [
                    _("The mandate reference %(reference)s is already used.") % {"reference": reference}
                ]
            }
        ) from None
    _sync_customer(mandate)
    audit_log(
        organization=organization,
        user=user,
        action="payment.mandate_created",
        obj=customer,
        data={"reference": reference, "scheme": scheme, "folder": folder.pk if folder else None},
    )
    return mandate


@transaction.atomic
def mandate_amend(
    *,
    mandate: SepaMandate,
    reference: str,
    iban: str,
    bic: str,
    debtor_name: str,
    user,
    today: dt.date,
    prenotification_days: int | None = None,
) -> SepaMandate:
    """Change reference, account or holder. For a mandate already collected, a changed
    reference or IBAN is an amendment the next collection reports with the original
    values (the first original is kept when it changes twice before that collection)."""
    mandate = SepaMandate.objects.select_for_update().get(pk=mandate.pk)
    if mandate.status != MandateStatus.ACTIVE:
        raise ValidationError(_("Only an active mandate can be changed."))
    reference, iban, bic, debtor_name = _clean(
        reference=reference,
        iban=iban,
        bic=bic,
        debtor_name=debtor_name,
        signed_on=mandate.signed_on,
        today=today,
    )
    _unique_reference(mandate.organization, reference, exclude=mandate.pk)
    used = mandate.last_collected_on is not None
    changes = {}
    if reference != mandate.reference:
        if used and not mandate.original_reference:
            mandate.original_reference = mandate.reference
        changes["reference"] = [mandate.reference, reference]
        mandate.reference = reference
    if iban != mandate.iban:
        if used and not mandate.original_iban:
            mandate.original_iban = mandate.iban
        changes["iban"] = [mandate.iban, iban]
        mandate.iban = iban
    mandate.bic = bic
    mandate.debtor_name = debtor_name
    mandate.prenotification_days = prenotification_days
    # Changed back to what the bank knows: nothing to report.
    if mandate.original_reference == mandate.reference:
        mandate.original_reference = ""
    if mandate.original_iban == mandate.iban:
        mandate.original_iban = ""
    mandate.save(
        update_fields=[
            "reference",
            "iban",
            "bic",
            "debtor_name",
            "prenotification_days",
            "original_reference",
            "original_iban",
        ]
    )
    _sync_customer(mandate)
    audit_log(
        organization=mandate.organization,
        user=user,
        action="payment.mandate_amended",
        obj=mandate.customer,
        data={"reference": mandate.reference, "changes": changes, "amendment": used and bool(changes)},
    )
    return mandate


@transaction.atomic
def mandate_revoke(*, mandate: SepaMandate, user, today: dt.date) -> SepaMandate:
    mandate = SepaMandate.objects.select_for_update().get(pk=mandate.pk)
    if mandate.status != MandateStatus.ACTIVE:
        raise ValidationError(_("This mandate is not active."))
    _mandate_end(mandate, user=user, today=today, action="payment.mandate_revoked")
    return mandate


def _mandate_end(mandate: SepaMandate, *, user, today: dt.date, action: str, **data) -> None:
    """End a mandate (revoked by the debtor, or replaced by a newly signed one); it stays
    for the collections it made."""
    mandate.status = MandateStatus.REVOKED
    mandate.revoked_on = today
    mandate.save(update_fields=["status", "revoked_on"])
    audit_log(
        organization=mandate.organization,
        user=user,
        action=action,
        obj=mandate.customer,
        data={"reference": mandate.reference, **data},
    )


def mandates_expire(*, today: dt.date) -> int:
    """Mark active mandates unused for 36 months as expired (daily task)."""
    valid = mandate_valid_on(today).values("pk")
    stale = SepaMandate.objects.filter(status=MandateStatus.ACTIVE, signed_on__lte=today).exclude(
        pk__in=valid
    )
    return stale.update(status=MandateStatus.EXPIRED)


def mandate_reference_suggestion(customer: Customer) -> str:
    """A free reference for a new mandate: the customer number and a running count."""
    base = re.sub(r"[^A-Za-z0-9-]", "", str(getattr(customer, "number", "") or customer.pk)) or str(
        customer.pk
    )
    count = SepaMandate.objects.filter(customer=customer).count() + 1
    while True:
        reference = f"M-{base}-{count}"[:35]
        if not SepaMandate.objects.filter(
            organization_id=customer.organization_id, reference=reference
        ).exists():
            return reference
        count += 1


# The customer's payment form names its own mandate by these fields (customers'
# MANDATE_FIELDS); the service's errors are shown at them.
_CUSTOMER_FIELD_OF = {
    "reference": "mandate_reference",
    "signed_on": "mandate_signed_on",
    "debtor_name": "account_holder",
}


def _at_customer_fields(exc: ValidationError) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return ValidationError({"mandate_reference": exc.messages})
    return ValidationError({_CUSTOMER_FIELD_OF.get(k, k): v for k, v in exc.message_dict.items()})


@transaction.atomic
def customer_mandate_follow(*, customer: Customer, user, after: dict, today: dt.date) -> SepaMandate | None:
    """Apply what the customer's payment form says about its own mandate to the mandates.

    Mandates are the one truth; the customer row only carries a copy of the active one.
    - no active mandate and a reference: a new mandate;
    - another reference or signature date: a newly signed mandate; the old one is ended
      and kept (its collections name it), the new one starts with a first collection;
    - the same mandate with another IBAN, BIC or holder: an amendment (mandate_amend),
      which the next collection reports when the mandate was already used;
    - the reference removed: the mandate is ended.
    """
    current = (
        SepaMandate.objects.select_for_update()
        .filter(customer=customer, folder__isnull=True, status=MandateStatus.ACTIVE)
        .order_by("-signed_on", "-id")
        .first()
    )
    reference = (after.get("mandate_reference") or "").strip()
    signed_on = after.get("mandate_signed_on")
    account = {
        "iban": after.get("iban") or "",
        "bic": after.get("bic") or "",
        "debtor_name": (after.get("account_holder") or customer.name)[:NAME_MAX],
    }
    try:
        if not reference:
            if current is not None:
                _mandate_end(
                    current, user=user, today=today, action="payment.mandate_replaced", replaced_by=""
                )
            return None
        if current is not None and current.reference == reference:
            if signed_on and signed_on != current.signed_on:
                if current.last_collected_on is not None:
                    raise ValidationError(
                        {
                            "signed_on": [
                                _(
                                    "Mandate %(reference)s was already collected, so its signature date "
                                    "stays; a newly signed mandate needs a new reference."
                                )
                                % {"reference": reference}
                            ]
                        }
                    )
                current.signed_on = signed_on
                current.save(update_fields=["signed_on"])
            return mandate_amend(
                mandate=current,
                reference=reference,
                user=user,
                today=today,
                prenotification_days=current.prenotification_days,
                **account,
            )
        if not signed_on:
            raise ValidationError({"signed_on": [_("Enter the date the mandate was signed.")]})
        if current is not None:
            _mandate_end(
                current, user=user, today=today, action="payment.mandate_replaced", replaced_by=reference
            )
        return mandate_create(
            organization=customer.organization,
            customer=customer,
            reference=reference,
            signed_on=signed_on,
            scheme=current.scheme if current is not None else MandateScheme.CORE,
            prenotification_days=current.prenotification_days if current is not None else None,
            user=user,
            today=today,
            **account,
        )
    except ValidationError as exc:
        raise _at_customer_fields(exc) from None


def mandates_on_file(pairs) -> dict[tuple[int, int | None], MandateOnFile]:
    """Per (payer id, folder id or None) the active mandate its invoice uses: the folder's
    own first, then the customer's (the newest of each); pairs without one are left out.
    Registered with documents, which prints it on the invoice and in its e-invoice."""
    pairs = list(pairs)
    found: dict[tuple[int, int | None], MandateOnFile] = {}
    rows = (
        SepaMandate.objects.filter(
            customer_id__in={payer for payer, _folder in pairs}, status=MandateStatus.ACTIVE
        )
        .order_by("signed_on", "id")
        .values_list("customer_id", "folder_id", "reference", "iban")
    )
    for customer_id, folder_id, reference, iban in rows:
        found[(customer_id, folder_id)] = MandateOnFile(reference=reference, iban=iban)
    result = {}
    for payer_id, folder_id in pairs:
        mandate = (folder_id is not None and found.get((payer_id, folder_id))) or found.get((payer_id, None))
        if mandate:
            result[(payer_id, folder_id)] = mandate
    return result
