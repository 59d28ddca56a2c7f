from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("Organizations")

    def ready(self):
        from django.db.backends.signals import connection_created

        from .collation import register

        connection_created.connect(register, dispatch_uid="organizations.collation")
