from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from organizations.signals import billing_day_change_requested

        from . import system_texts  # noqa: F401 - registers billing's system text codes
        from .selectors import billing_day_change_check

        billing_day_change_requested.connect(
            billing_day_change_check, dispatch_uid="billing.billing_day_change_check"
        )
