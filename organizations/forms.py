from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled
from PIL import Image

from .countries import country_choices
from .models import Membership, NumberFormat, Organization, TenantModel
from .numbering import pattern_problems
from .roles import Role
from .services import member_user_resolve
from .timezones import DEFAULT_TIME_ZONE, zone_choices
from .validators import (
    bic_for_iban,
    normalize_creditor_id,
    normalize_iban,
    normalize_phone,
    normalize_vat_id,
    normalize_website,
    validate_postal_code,
)


class DateInput(forms.DateInput):
    """A date as the clerk writes it: "01.12.2026" in German, "01/12/2026" in English.

    Not `<input type=date>`: that shows the browser's locale format (12/01/2026 in an
    English browser), whatever language the back office speaks. The value is rendered in
    the active language's first DATE_INPUT_FORMATS (config/formats) and every format of
    that list is accepted, ISO dates (2026-12-01) included.
    """

    input_type = "text"
    # Day and month with one or two digits, a two- or four-digit year, or ISO. The form
    # still parses and says what is wrong; the pattern only stops obvious typos early.
    PATTERN = r"\d{1,2}[./]\d{1,2}[./](\d{2}|\d{4})|\d{4}-\d{1,2}-\d{1,2}"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        widget_attrs.setdefault("placeholder", _("DD/MM/YYYY"))
        widget_attrs.setdefault("pattern", self.PATTERN)
        widget_attrs.setdefault("title", _("Date as DD/MM/YYYY"))
        widget_attrs.setdefault("autocomplete", "off")
        widget_attrs.setdefault("size", 10)
        return context


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


# The largest key a bigint column holds. A longer number sent for a choice would make the
# database fail with "out of range" instead of the form saying the choice is invalid.
MAX_PK = 2**63 - 1


def _bounded_choice_clean(field):
    """Refuse values that cannot be a row's key (text, 20 digits) before they reach a query."""
    clean = field.clean

    def wrapped(value):
        pk = field.queryset.model._meta.pk if field.queryset is not None else None
        integer_keys = isinstance(pk, models.AutoField | models.IntegerField)
        values = value if isinstance(value, list | tuple) else [value]
        for item in values if integer_keys else []:
            if item in field.empty_values:
                continue
            text = str(item).strip()
            if not text.isdigit() or int(text) > MAX_PK:
                raise forms.ValidationError(
                    field.error_messages["invalid_choice"], code="invalid_choice", params={"value": text}
                )
        return clean(value)

    wrapped.bounded = True
    return wrapped


# Right-to-left overrides and other invisible direction marks let a name display as
# something else than it is ("Rechnung‮fdp.exe") on pages, PDFs and e-mails.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Free text without its own limit: a note or a line description may be long, but a
# 100,000-character paste is a mistake that would slow every page showing it.
TEXT_MAX_LENGTH = 5000
LINE_MAX_LENGTH = 300


def _bounded_text(field) -> None:
    """Strip direction controls and give free text a length limit with a message."""
    to_python = field.to_python

    def wrapped(value):
        value = to_python(value)
        return BIDI_CONTROLS.sub("", value) if isinstance(value, str) else value

    field.to_python = wrapped
    field.to_python.bounded = True
    if field.max_length is None:
        field.max_length = TEXT_MAX_LENGTH if isinstance(field.widget, forms.Textarea) else LINE_MAX_LENGTH
        field.validators.append(MaxLengthValidator(field.max_length))
        field.widget.attrs.update(field.widget_attrs(field.widget))


def _bounded_integer(field) -> None:
    """An integer field without an upper bound gets the database's, so 10**20 is a field error."""
    if field.max_value is None:
        field.max_value = 2**31 - 1
        field.validators.append(MaxValueValidator(field.max_value))
    if field.min_value is None:
        field.min_value = -(2**31)
        field.validators.append(MinValueValidator(field.min_value))


class StyledFormMixin:
    """Bootstrap classes on every widget, German number input for decimals, German dates,
    and every number, date and choice bounded to what the database can hold."""

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
            if (
                isinstance(field, forms.ModelChoiceField)
                and field.to_field_name is None
                and not getattr(field.clean, "bounded", False)
            ):
                field.clean = _bounded_choice_clean(field)
            if isinstance(field, forms.CharField) and not getattr(field.to_python, "bounded", False):
                _bounded_text(field)
            if isinstance(field, forms.IntegerField) and not isinstance(
                field, forms.DecimalField | forms.FloatField
            ):
                _bounded_integer(field)
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


class ContactDataFormMixin:
    """Phone numbers, websites and postal codes checked by the same rules on every form.

    A form names its fields; the country of the address decides how a number without
    ``+`` is read and which postal code rule applies (German when unknown). Phone numbers
    are stored in E.164, websites as full http(s) addresses.
    """

    phone_fields: tuple[str, ...] = ()
    website_fields: tuple[str, ...] = ()
    postal_code_field: str | None = None
    country_field: str | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.phone_fields:
            if name in self.fields:
                # Phones get the dial pad; the value is stored and edited in E.164, which
                # reads back the same whatever the address's country is changed to.
                self.fields[name].widget.input_type = "tel"
                self.fields[name].widget.attrs.setdefault("autocomplete", "tel")

    def contact_country(self) -> str:
        country = self.cleaned_data.get(self.country_field) if self.country_field else None
        if not country and self.country_field:
            country = getattr(self.instance, self.country_field, "")
        return country or "DE"

    def clean(self):
        data = super().clean()
        country = self.contact_country()
        checks = [(name, normalize_phone, (country,)) for name in self.phone_fields]
        checks += [(name, normalize_website, ()) for name in self.website_fields]
        if self.postal_code_field:
            checks.append((self.postal_code_field, _checked_postal_code, (country,)))
        for name, normalize, args in checks:
            if name not in self.fields or name in self.errors or not data.get(name):
                continue
            try:
                data[name] = normalize(data[name], *args)
            except ValidationError as exc:
                self.add_error(name, exc)
        return data


def _checked_postal_code(value: str, country: str) -> str:
    value = value.strip()
    validate_postal_code(value, country)
    return value


def bank_account_clean(form: forms.Form, data: dict, *, iban: str = "iban", bic: str = "bic") -> None:
    """Fill in the BIC of the IBAN's bank, or refuse a BIC of another bank (at the BIC)."""
    if not data.get(iban) or iban in form.errors or bic in form.errors or bic not in form.fields:
        return
    try:
        data[bic] = bic_for_iban(data[iban], data.get(bic) or "")
    except ValidationError as exc:
        form.add_error(bic, exc)


def not_negative(field: forms.Field, message) -> None:
    """Replace the generic min-value validator of an amount with a message that names the
    problem ("The price cannot be negative.")."""
    field.validators = [v for v in field.validators if not isinstance(v, MinValueValidator)]
    field.validators.append(MinValueValidator(Decimal("0"), message=message))


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: at the field when the form has it,
    otherwise in the summary at the top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def tenant_formfield(db_field, **kwargs):
    """Form field for a model field; choices of tenant models start EMPTY.

    Model forms build their fields when the class is created (import time, outside any
    organization scope, where a scoped manager refuses to query). The class-level choice
    queryset is therefore empty, and TenantModelForm.__init__ fills it with the active
    organization's rows - a forgotten override shows no choices instead of leaking.
    """
    with scopes_disabled():
        field = db_field.formfield(**kwargs)
    queryset = getattr(field, "queryset", None)
    if queryset is not None and issubclass(queryset.model, TenantModel):
        field.queryset = queryset.none()
    return field


class TenantModelForm(StyledFormMixin, forms.ModelForm):
    """A model form that knows the active organization (for uniqueness and choices)."""

    class Meta:
        formfield_callback = tenant_formfield

    def __init__(self, *args, organization, **kwargs):
        self.organization = organization
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if queryset is not None and issubclass(queryset.model, TenantModel):
                field.queryset = queryset.model.objects.filter(organization=organization)

    def _unique(self, field: str, message: str):
        value = self.cleaned_data.get(field)
        if value in (None, ""):
            return value
        qs = self._meta.model.objects.filter(organization=self.organization, **{f"{field}__iexact": value})
        if self.instance.pk:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise ValidationError(message % {"value": value})
        return value


class ModelErrorsAtFieldsMixin:
    """Model.clean() may name a field this form does not show (e.g. the payment fields for
    a role that may not edit them). Show such errors in the summary instead of crashing."""

    def _update_errors(self, errors):
        if hasattr(errors, "error_dict"):
            for name in list(errors.error_dict):
                if name != NON_FIELD_ERRORS and name not in self.fields:
                    errors.error_dict.setdefault(NON_FIELD_ERRORS, []).extend(errors.error_dict.pop(name))
        super()._update_errors(errors)


class KeyedRowMixin:
    """A row of an inline formset that counts as filled in only with its `row_key` field:
    an extra row without it is an empty row, whatever defaults its other fields show."""

    row_key: str

    def has_changed(self):
        if not self.instance.pk and self.is_bound and not self.data.get(self.add_prefix(self.row_key)):
            return False
        return super().has_changed()


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


# The organization settings page: (title, help text, fields, column class) per section.
ORGANIZATION_SECTIONS = [
    (
        _("Legal data"),
        _("Printed on every quote, invoice and delivery note (§ 14 UStG)."),
        ["name", "legal_name", "street", "postal_code", "city", "country", "email", "phone", "website"],
        "col-md-4",
    ),
    (
        _("Tax and register"),
        "",
        [
            "vat_id",
            "tax_number",
            "small_business",
            "register_court",
            "register_number",
            "managing_directors",
        ],
        "col-md-4",
    ),
    (
        _("Bank and SEPA"),
        _("Needed before customers can pay by direct debit and before SEPA files can be created."),
        ["bank_name", "iban", "bic", "creditor_id"],
        "col-md-3",
    ),
    (
        _("Billing defaults and logo"),
        "",
        ["payment_terms_days", "billing_day", "advance_invoices", "time_zone", "logo"],
        "col-md-4",
    ),
]


class OrganizationForm(ContactDataFormMixin, StyledFormMixin, forms.ModelForm):
    phone_fields = ("phone",)
    website_fields = ("website",)
    postal_code_field = "postal_code"
    country_field = "country"

    SECTIONS = ORGANIZATION_SECTIONS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"] = forms.ChoiceField(
            label=Organization._meta.get_field("country").verbose_name,
            choices=country_choices(self.instance.country),
            initial="DE",
            widget=forms.Select(attrs={"class": "form-select"}),
        )
        self.fields["payment_terms_days"].widget.attrs.update({"min": 0, "max": 365})
        self.fields["time_zone"] = forms.ChoiceField(
            label=Organization._meta.get_field("time_zone").verbose_name,
            help_text=_("Times on pages and documents are shown in this zone."),
            choices=zone_choices(),
            initial=DEFAULT_TIME_ZONE,
            # A form sent without the field (an older page, a script) keeps the zone.
            required=False,
            widget=forms.Select(attrs={"class": "form-select"}),
        )

    def sections(self):
        return [
            (title, help, [self[name] for name in names], col) for title, help, names, col in self.SECTIONS
        ]

    class Meta:
        model = Organization
        fields = [name for _title, _help, names, _col in ORGANIZATION_SECTIONS for name in names]

    def clean_time_zone(self):
        return self.cleaned_data.get("time_zone") or self.instance.time_zone or DEFAULT_TIME_ZONE

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
        bank_account_clean(self, data)
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
