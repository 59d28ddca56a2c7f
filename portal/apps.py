from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Customer portal")

    def ready(self) -> None:
        # Contacts tell the portal about themselves through customers' contact_changed
        # signal; the portal shows its status on the customer page's contacts card.
        from . import panels, receivers

        receivers.connect()
        panels.register()
