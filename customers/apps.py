from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        # The numbering checks a new pattern against the column and the numbers given out.
        from organizations.numbering import NumberedField, numbered_field_register

        from .models import Customer

        numbered_field_register(
            "customer",
            NumberedField(
                max_length=Customer._meta.get_field("number").max_length,
                taken=lambda organization: Customer.objects.filter(organization=organization).values_list(
                    "number", flat=True
                ),
            ),
        )
