from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import TenantModel


class DemoRecord(TenantModel):
    """A row the demo seed made, under the fixed key the seed knows it by.

    The seed finds its own rows through these keys only - never by position, name or
    number, which people change while they try the demo - so running it again adds
    nothing and leaves their rows alone. The key outlives its row: what someone deleted
    is not brought back. A key without a row marks a step that runs once per
    organization (the documents, the billing history).
    """

    key = models.CharField(max_length=200)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("demo record")
        verbose_name_plural = _("demo records")
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="demorecord_unique_key"),
        ]

    def __str__(self) -> str:
        return self.key
