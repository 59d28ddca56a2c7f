"""Countries offered in address forms, and the EU member states that decide tax treatment."""

from django.utils import translation
from django.utils.translation import gettext_lazy as _

# Member states of the EU (ISO 3166-1 alpha-2); decides which tax treatments fit a country.
EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)

# Countries offered in forms: the EU plus the neighbours our customers trade with.
COUNTRIES = [
    ("DE", _("Germany")),
    ("AT", _("Austria")),
    ("CH", _("Switzerland")),
    ("NL", _("Netherlands")),
    ("BE", _("Belgium")),
    ("LU", _("Luxembourg")),
    ("FR", _("France")),
    ("DK", _("Denmark")),
    ("PL", _("Poland")),
    ("CZ", _("Czechia")),
    ("IT", _("Italy")),
    ("ES", _("Spain")),
    ("PT", _("Portugal")),
    ("SE", _("Sweden")),
    ("FI", _("Finland")),
    ("IE", _("Ireland")),
    ("GR", _("Greece")),
    ("HU", _("Hungary")),
    ("SK", _("Slovakia")),
    ("SI", _("Slovenia")),
    ("HR", _("Croatia")),
    ("RO", _("Romania")),
    ("BG", _("Bulgaria")),
    ("EE", _("Estonia")),
    ("LV", _("Latvia")),
    ("LT", _("Lithuania")),
    ("MT", _("Malta")),
    ("CY", _("Cyprus")),
    ("LI", _("Liechtenstein")),
    ("NO", _("Norway")),
    ("GB", _("United Kingdom")),
    ("US", _("United States")),
]


def country_choices(current: str | None = None) -> list[tuple[str, str]]:
    """The offered countries, plus `current` when a record holds a code outside the list."""
    choices = list(COUNTRIES)
    if current and current not in dict(choices):
        choices.append((current, current))
    return choices


def country_name(code: str, language: str) -> str:
    """The country's name in `language` ("Österreich" on a German document, "Austria" on an
    English one): a postal address ends with the country's name, not its ISO code."""
    name = dict(COUNTRIES).get((code or "").upper())
    if name is None:
        return code
    with translation.override(language):
        return str(name)
