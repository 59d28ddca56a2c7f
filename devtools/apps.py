from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevtoolsConfig(AppConfig):
    """Tools for the developer's own machine (the file outbox for e-mails). Like `demo/`,
    it stands beside the product: no product app imports it."""

    name = "devtools"
    verbose_name = _("Developer tools")
