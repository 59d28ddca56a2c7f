from __future__ import annotations

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from PIL import Image

from .countries import country_choices
from .models import Membership, NumberFormat, Organization
from .numbering import pattern_problems
from .roles import Role
from .services import member_user_resolve
from .validators import normalize_creditor_id, normalize_iban, normalize_vat_id, validate_postal_code


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _grouped_to_python(to_python):
    """Accept German digit grouping ("6.490,00"): with the decimal comma present, dots
    can only be thousands separators. Django drops them only with USE_THOUSAND_SEPARATOR."""

    def wrapped(value):
        if isinstance(value, str):
            text = value.strip().replace("\u00a0", "").replace(" ", "").replace("€", "")
            if "," in text and "." in text and text.rfind(".") < text.rfind(","):
                text = text.replace(".", "")
            value = text
        return to_python(value)

    return wrapped


FIRST_YEAR, LAST_YEAR = 1900, 2199


def validate_business_date(value) -> None:
    """Dates outside 1900-2199 are typing errors (and break term arithmetic near year 9999)."""
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise forms.ValidationError(
            _("Please enter a date between %(first)s and %(last)s.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )


class StyledFormMixin:
    """Bootstrap classes on every widget, German number input for decimals, HTML5 dates."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            # Django's "---------" placeholder reads like a glitch to users.
            if isinstance(field, forms.ModelChoiceField) and field.empty_label == "---------":
                field.empty_label = _("– please choose –")
            elif isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
                field.choices = [
                    (value, _("– please choose –") if label == "---------" else label)
                    for value, label in field.choices
                ]
            if isinstance(field, forms.DecimalField):
                if not getattr(field.to_python, "accepts_grouping", False):
                    field.to_python = _grouped_to_python(field.to_python)
                    field.to_python.accepts_grouping = True
                field.localize = True
                widget.is_localized = True
                widget.input_type = "text"
                widget.attrs.setdefault("inputmode", "decimal")
            if isinstance(field, forms.DateField):
                if not isinstance(widget, DateInput):
                    field.widget = widget = DateInput(attrs=widget.attrs)
                if validate_business_date not in field.validators:
                    field.validators.append(validate_business_date)
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


# Image formats (as Pillow names them) accepted for the logo, and the extension they get.
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg"}
# A small file can still decode to gigabytes of pixels when a PDF is rendered.
LOGO_MAX_SIDE = 6000


def _image_format(upload) -> tuple[str | None, tuple[int, int]]:
    """Pillow's name for the upload's image format and its size; None if it is no sound image."""
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format, size = image.format, image.size
            image.verify()
    except Exception:  # Pillow signals broken files with many exception types
        return None, (0, 0)
    finally:
        upload.seek(0)
    return image_format, size


class OrganizationForm(StyledFormMixin, forms.ModelForm):
    # (title, help text, fields, column class) for the settings page
    SECTIONS = [
        (
            _("Legal data"),
            _("Printed on every quote, invoice and delivery note (§ 14 UStG)."),
            ["name", "legal_name", "street", "postal_code", "city", "country", "email", "phone", "website"],
            "col-md-4",
        ),
        (
            _("Tax and register"),
            "",
            ["vat_id", "tax_number", "register_court", "register_number", "managing_directors"],
            "col-md-4",
        ),
        (
            _("Bank and SEPA"),
            _("Needed before customers can pay by direct debit and before SEPA files can be created."),
            ["bank_name", "iban", "bic", "creditor_id"],
            "col-md-3",
        ),
        (_("Billing defaults and logo"), "", ["payment_terms_days", "billing_day", "logo"], "col-md-4"),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"] = forms.ChoiceField(
            label=Organization._meta.get_field("country").verbose_name,
            choices=country_choices(self.instance.country),
            initial="DE",
            widget=forms.Select(attrs={"class": "form-select"}),
        )
        self.fields["payment_terms_days"].widget.attrs.update({"min": 0, "max": 365})

    def sections(self):
        return [
            (title, help, [self[name] for name in names], col) for title, help, names, col in self.SECTIONS
        ]

    class Meta:
        model = Organization
        fields = [
            "name",
            "legal_name",
            "street",
            "postal_code",
            "city",
            "country",
            "email",
            "phone",
            "website",
            "vat_id",
            "tax_number",
            "register_court",
            "register_number",
            "managing_directors",
            "bank_name",
            "iban",
            "bic",
            "creditor_id",
            "payment_terms_days",
            "billing_day",
            "logo",
        ]

    def clean_iban(self):
        return normalize_iban(self.cleaned_data["iban"])

    def clean_bic(self):
        return self.cleaned_data["bic"].replace(" ", "").upper()

    def clean_vat_id(self):
        return normalize_vat_id(self.cleaned_data["vat_id"])

    def clean_creditor_id(self):
        return normalize_creditor_id(self.cleaned_data["creditor_id"])

    def clean_billing_day(self):
        day = self.cleaned_data["billing_day"]
        if not 1 <= day <= 28:
            raise forms.ValidationError(_("Choose a day between 1 and 28."))
        return day

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "content_type"):  # a new upload, not the stored file
            if logo.size > 1024 * 1024:
                raise forms.ValidationError(_("The logo may be at most 1 MB."))
            # The browser's content type and the file name are whatever the uploader says;
            # only the bytes tell. SVG is refused: it can carry scripts.
            image_format, size = _image_format(logo)
            extension = LOGO_FORMATS.get(image_format)
            if extension is None:
                raise forms.ValidationError(_("Upload the logo as a PNG or JPEG image."))
            if max(size) > LOGO_MAX_SIDE:
                raise forms.ValidationError(
                    _("The logo may be at most %(pixels)s pixels wide and high.") % {"pixels": LOGO_MAX_SIDE}
                )
            # Stored under an extension that matches the content, which is what the logo
            # view and the PDF renderer derive the content type from.
            logo.name = f"{slugify(self.instance.slug) or 'logo'}.{extension}"
        return logo

    def clean(self):
        data = super().clean()
        if data.get("postal_code"):
            try:
                validate_postal_code(data["postal_code"], data.get("country") or "DE")
            except forms.ValidationError as exc:
                self.add_error("postal_code", exc)
        return data


class MemberAddForm(StyledFormMixin, forms.Form):
    username = forms.CharField(
        label=_("user name"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Letters, digits and @ . + - _ only."),
    )
    email = forms.EmailField(
        label=_("e-mail"),
        max_length=254,
        required=False,
        help_text=_("To add a user who already has an account, enter their e-mail address as well."),
    )
    first_name = forms.CharField(label=_("first name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("last name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("initial password"),
        widget=forms.PasswordInput,
        required=False,
        strip=False,
        help_text=_("Only needed for a new user."),
    )
    role = forms.ChoiceField(label=_("role"), choices=Role.choices)

    def __init__(self, *args, organization: Organization, **kwargs):
        self.organization = organization
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        data["existing_user"] = None
        if self.errors:
            return data
        try:
            data["existing_user"] = member_user_resolve(
                organization=self.organization,
                username=data["username"],
                email=data.get("email", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                password=data.get("password", ""),
            )
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


class MembershipRoleForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role"]


class NumberFormatForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = NumberFormat
        fields = ["pattern"]

    def __init__(self, *args, organization: Organization, kind: str, **kwargs):
        self.organization = organization
        self.kind = kind
        super().__init__(*args, **kwargs)

    def clean_pattern(self):
        pattern = self.cleaned_data["pattern"].strip()
        problems = pattern_problems(organization=self.organization, kind=self.kind, pattern=pattern)
        if problems:
            raise forms.ValidationError(problems)
        return pattern
