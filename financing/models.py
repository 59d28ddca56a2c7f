"""Financing: a leasing company pays for a folder's hardware.

The financier is an ordinary customer record flagged `is_financier` - one record per real
company, never a copy of the end customer. The folder stays the end customer's; only the
payer of its one-off lines changes (financing.payer.payer_for).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from folders.models import MAX_TERM_MONTHS, Folder
from organizations.models import TenantModel, price_field


class ApprovalStatus(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")


class Financing(TenantModel):
    """Makes its folder "third-party paid" (Drittzahler): the folder's one-off lines are
    invoiced to `financier`, its recurring lines still to the end customer."""

    folder = models.OneToOneField(Folder, on_delete=models.CASCADE, related_name="financing")
    financier = models.ForeignKey(
        Customer,
        verbose_name=_("financier"),
        on_delete=models.PROTECT,
        related_name="financings",
        help_text=_("A customer flagged as financier (leasing company) of this organization."),
    )
    lease_term_months = models.PositiveSmallIntegerField(
        _("lease term (months)"), validators=[MinValueValidator(1), MaxValueValidator(MAX_TERM_MONTHS)]
    )
    contract_reference = models.CharField(
        _("financier's contract reference"),
        max_length=80,
        blank=True,
        help_text=_("Printed on the financier's invoice so it can match the payment."),
    )
    approval_status = models.CharField(
        _("approval status"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.SUBMITTED
    )
    approval_status_on = models.DateField(
        _("status date"),
        null=True,
        blank=True,
        help_text=_("When the deal was submitted, approved or rejected."),
    )
    monthly_rate = price_field(
        _("monthly lease rate"),
        null=True,
        blank=True,
        help_text=_("What the end customer pays the financier per month (for information)."),
    )
    insurance = models.BooleanField(_("insurance"), default=False)
    insurance_details = models.CharField(_("insurance details"), max_length=200, blank=True)
    residual_value = price_field(_("residual value"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("financing")
        verbose_name_plural = _("financings")
        indexes = [models.Index(fields=["organization", "financier"], name="financing_org_financier")]

    def __str__(self) -> str:
        return f"{self.folder.number}: {self.financier}"

    def clean(self):
        # The database cannot express these (they cross rows), so the model refuses them;
        # the service calls full_clean() before every save.
        financier = self.financier if self.financier_id else None
        if financier is None:
            return
        if financier.organization_id != self.organization_id:
            raise ValidationError({"financier": _("The financier must belong to this organization.")})
        if not financier.is_financier:
            raise ValidationError(
                {"financier": _("“%(name)s” is not flagged as financier.") % {"name": financier.name}}
            )
        if self.folder_id and financier.pk == self.folder.customer_id:
            raise ValidationError({"financier": _("The financier cannot be the folder's own customer.")})
