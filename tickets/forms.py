"""Forms of the back office and the portal. Choices of folders, equipment and contacts are
always those of one customer (the ticket's, or the portal contact's own)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import Contact, Customer
from customers.selectors import organization_members
from folders.models import Equipment, Folder
from organizations.forms import StyledFormMixin

from .attachments import attachments_check, max_bytes, max_files
from .models import TicketPriority, TicketStatus
from .selectors import customer_equipment, customer_folders


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by content in `attachments_check`,
    whose refusal lands at this field."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            uploads = [single(item, initial) for item in data]
        else:
            uploads = [single(data, initial)] if data else []
        return attachments_check([u for u in uploads if u])


def attachments_field() -> MultipleFileField:
    from django.template.defaultfilters import filesizeformat

    field = MultipleFileField(label=_("Attachments"))
    # Added after the styling mixin ran, so it gets the look of the other inputs here.
    field.widget.attrs["class"] = "form-control"
    field.help_text = _(
        "Up to %(count)s files, each at most %(size)s: PDF, images, Office documents or plain text."
    ) % {"count": max_files(), "size": filesizeformat(max_bytes())}
    return field


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.username


class FolderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.number} · {obj.name}"


class EquipmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        label = obj.line.description.splitlines()[0] if obj.line.description else ""
        serial = obj.serial_number or _("no serial number")
        return f"{label} · {serial} ({obj.line.folder.number})"


class _TicketFieldsForm(StyledFormMixin, forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What happened, since when, and what you already tried."),
    )
    folder = FolderChoiceField(label=_("Folder"), queryset=Folder.objects.none(), required=False)
    equipment = EquipmentChoiceField(label=_("Equipment"), queryset=Equipment.objects.none(), required=False)

    def __init__(self, *args, customer: Customer, **kwargs):
        self.customer = customer
        super().__init__(*args, **kwargs)
        self.fields["attachments"] = attachments_field()
        self.fields["folder"].queryset = customer_folders(customer)
        self.fields["equipment"].queryset = customer_equipment(customer)
        self.fields["folder"].empty_label = _("– none / not sure –")
        self.fields["equipment"].empty_label = _("– none / not sure –")

    def clean(self):
        data = super().clean()
        folder, equipment = data.get("folder"), data.get("equipment")
        if folder and equipment and equipment.line.folder_id != folder.pk:
            self.add_error("equipment", _("This equipment is not part of the chosen folder."))
        return data


class PortalTicketForm(_TicketFieldsForm):
    field_order = ["subject", "description", "folder", "equipment", "attachments"]


class StaffTicketForm(_TicketFieldsForm):
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none(), required=False)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=TicketPriority.choices, initial=TicketPriority.NORMAL
    )
    channel = forms.ChoiceField(
        label=_("Received by"),
        choices=[("phone", _("phone")), ("email", _("e-mail")), ("other", _("other"))],
        initial="phone",
    )
    assignee = UserChoiceField(
        label=_("Assignee"), queryset=organization_members(organization=None), required=False
    )

    field_order = [
        "contact",
        "channel",
        "priority",
        "assignee",
        "subject",
        "description",
        "folder",
        "equipment",
        "attachments",
    ]

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(customer=self.customer, is_active=True)
        self.fields["contact"].empty_label = _("– no contact –")
        self.fields["assignee"].queryset = organization_members(organization=organization)
        self.fields["assignee"].empty_label = _("– nobody yet –")


class CustomerPickForm(StyledFormMixin, forms.Form):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(kind="customer").order_by("name")


class ReplyForm(StyledFormMixin, forms.Form):
    body = forms.CharField(label=_("Message"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"] = attachments_field()


class StaffReplyForm(ReplyForm):
    internal = forms.BooleanField(
        label=_("Internal note (not visible to the customer, no e-mail)"), required=False
    )
    status = forms.ChoiceField(label=_("Then set status"), required=False)

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("– keep / automatic –"))] + [
            (s.value, s.label) for s in TicketStatus if s != TicketStatus.NEW
        ]

    def clean(self):
        data = super().clean()
        if data.get("internal") and data.get("status"):
            self.add_error("status", _("An internal note does not change the status."))
        return data


class AssignForm(StyledFormMixin, forms.Form):
    assignee = UserChoiceField(
        label=_("Assignee"), queryset=organization_members(organization=None), required=False
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = organization_members(organization=organization)
        self.fields["assignee"].empty_label = _("– nobody –")


class StatusForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=TicketStatus.choices)


class PriorityForm(StyledFormMixin, forms.Form):
    priority = forms.ChoiceField(label=_("Priority"), choices=TicketPriority.choices)
