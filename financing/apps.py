from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinancingConfig(AppConfig):
    name = "financing"

    def ready(self):
        # Financing changes are filed under their folder; tell the folder history how to
        # label them (folders cannot import financing).
        from folders import selectors

        from .models import Financing

        selectors.HISTORY_MODELS["financing"] = Financing
        selectors.ACTION_TITLES.update(
            {
                "financing.added": _("Financing added"),
                "financing.changed": _("Financing changed"),
                "financing.removed": _("Financing removed"),
            }
        )
