from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinancingConfig(AppConfig):
    name = "financing"

    def ready(self):
        from folders.selectors import history_register

        from . import panels
        from .models import Financing

        panels.register()
        # Financing changes are filed under their folder; tell the folder history how to
        # label them (folders cannot import financing).
        history_register(
            models={"financing": Financing},
            titles={
                "financing.added": _("Financing added"),
                "financing.changed": _("Financing changed"),
                "financing.removed": _("Financing removed"),
            },
        )
