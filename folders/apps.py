from django.apps import AppConfig


class FoldersConfig(AppConfig):
    name = "folders"

    def ready(self) -> None:
        from organizations.signals import billing_day_changed

        from . import panels, system_texts  # noqa: F401 - system_texts registers the folder history's text codes
        from .services import billing_day_pin

        billing_day_changed.connect(billing_day_pin, dispatch_uid="folders.billing_day_pin")
        panels.register()

        # The numbering checks a new pattern against the column and the numbers given out.
        from organizations.numbering import NumberedField, numbered_field_register

        from .models import Folder

        numbered_field_register(
            "folder",
            NumberedField(
                max_length=Folder._meta.get_field("number").max_length,
                taken=lambda organization: Folder.objects.filter(organization=organization).values_list(
                    "number", flat=True
                ),
            ),
        )
