"""The German back office must not show English: every text of the sales, configuration and
folder pages has a German translation in the compiled catalog.

The msgids are collected here without `makemessages`: templates go through Django's
`templatize` (the same rewrite `makemessages` feeds to xgettext, so the msgids are exactly
what `{% translate %}` / `{% blocktranslate %}` look up at runtime), Python files through
`ast` (which, unlike xgettext, also sees `_()` inside f-strings). Each msgid must be in
`locale/de/LC_MESSAGES/django.mo`, read with `gettext.GNUTranslations`; a msgid that Django
or a third-party app already translates (e.g. "Yes") counts as translated. Fuzzy entries
are not compiled, so a fuzzy guess by msgmerge counts as missing, as it is in the UI.

When this fails: add the German text to your file in locale/pending/ and run
scripts/messages.sh.
"""

from __future__ import annotations

import ast
import gettext
import io
import tokenize
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation.template import templatize

BASE_DIR = Path(settings.BASE_DIR)
MO_FILE = BASE_DIR / "locale" / "de" / "LC_MESSAGES" / "django.mo"
# Our own apps: the installed ones that live in this project.
APPS = tuple(app for app in settings.INSTALLED_APPS if (BASE_DIR / app / "apps.py").exists())
TEMPLATE_DIRS = (*APPS, "partials")
GETTEXT_FUNCTIONS = {
    "_",
    "gettext",
    "gettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
}

# What a clerk sees first: the sidebar, page titles, the main buttons and state badges.
KEY_STRINGS = {
    # sidebar
    "Sales": "Vertrieb",
    "Customers": "Kunden",
    "Prospects": "Interessenten",
    "Folders": "Ordner",
    "Quotes": "Angebote",
    "Actions": "Aktionen",
    "Billing": "Abrechnung",
    "Invoices": "Rechnungen",
    "Credit notes": "Gutschriften",
    "Delivery notes": "Lieferscheine",
    "Billing runs": "Abrechnungsläufe",
    "Devices": "Geräte",
    "Configuration": "Konfiguration",
    "Products": "Produkte",
    "Service packages": "Leistungspakete",
    "Tax rates": "Steuersätze",
    "Contact functions": "Kontaktfunktionen",
    "Standard installations": "Standard-Installationen",
    "Number ranges": "Nummernkreise",
    "Users": "Benutzer",
    # top bar
    "Search customers, folders, document or serial numbers": "Kunden, Ordner, Belegnummern oder Seriennummern suchen",
    "Organization": "Organisation",
    "Switch organization": "Organisation wechseln",
    "Language": "Sprache",
    "Log out": "Abmelden",
    "Skip to content": "Zum Inhalt springen",
    # list and detail pages
    "Add customer": "Kunde anlegen",
    "Add prospect": "Interessent anlegen",
    "Add product": "Produkt anlegen",
    "Create folder": "Ordner anlegen",
    "Add line": "Position hinzufügen",
    "Add note": "Notiz hinzufügen",
    "Add action": "Aktion hinzufügen",
    "Convert into customer": "In Kunden umwandeln",
    "CSV export": "CSV-Export",
    "Master data": "Stammdaten",
    "Overdue actions": "Überfällige Aktionen",
    "My next actions": "Meine nächsten Aktionen",
    "Active folders": "Aktive Ordner",
    "No customers yet.": "Noch keine Kunden.",
    "Previous page": "Vorherige Seite",
    "Next page": "Nächste Seite",
    # forms
    "Save": "Speichern",
    "Cancel": "Abbrechen",
    "Edit": "Bearbeiten",
    "Delete": "Löschen",
    "Filter": "Filtern",
    "Please correct the marked fields.": "Bitte korrigieren Sie die markierten Felder.",
    "required": "Pflichtfeld",
    # badges
    "Prospect": "Interessent",
    "Financier": "Finanzierer",
    "Third-party payer": "Drittzahler",
    "Billing hold": "Abrechnungssperre",
    "overdue": "überfällig",
}


@pytest.fixture(scope="module")
def catalog() -> gettext.GNUTranslations:
    with MO_FILE.open("rb") as fp:
        return gettext.GNUTranslations(fp)


def _key(kind: str, args: list[str]):
    """The key under which GNUTranslations stores a msgid (context and plural included)."""
    if kind.startswith("np"):
        return (f"{args[0]}\x04{args[1]}", 0)
    if kind.startswith("p"):
        return f"{args[0]}\x04{args[1]}"
    if kind.startswith("n"):
        return (args[0], 0)
    return args[0]


def _is_translated(catalog: gettext.GNUTranslations, kind: str, args: list[str]) -> bool:
    if _key(kind, args) in catalog._catalog:
        return True
    # Django's and third-party apps' own German catalogs.
    with translation.override("de"):
        if kind.startswith("np"):
            return translation.npgettext(args[0], args[1], args[2], 1) != args[1]
        if kind.startswith("p"):
            return translation.pgettext(args[0], args[1]) != args[1]
        if kind.startswith("n"):
            return translation.ngettext(args[0], args[1], 1) != args[0]
        return translation.gettext(args[0]) != args[0]


def _calls_in_template(source: str, origin: str) -> list[tuple[str, list[str]]]:
    """gettext calls in the Python-like text `templatize` makes of a template."""
    code = "\n".join(line.lstrip() for line in templatize(source, origin=origin).splitlines()) + "\n"
    tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    calls = []
    for i, tok in enumerate(tokens[:-1]):
        if tok.type != tokenize.NAME or tok.string not in GETTEXT_FUNCTIONS or tokens[i + 1].string != "(":
            continue
        args, parts, j = [], [], i + 2
        while j < len(tokens) and tokens[j].string != ")":
            if tokens[j].type == tokenize.STRING:
                parts.append(ast.literal_eval(tokens[j].string))
            elif tokens[j].string == ",":
                args.append("".join(parts))
                parts = []
            j += 1
        if parts:
            args.append("".join(parts))
        if args:
            calls.append((tok.string, args))
    return calls


def _calls_in_python(path: Path) -> tuple[list[tuple[str, list[str], int]], list[int]]:
    """gettext calls with literal msgids, and the lines of calls whose msgid is not a literal."""
    calls, dynamic = [], []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in GETTEXT_FUNCTIONS or not node.args:
            continue
        wanted = (2 if name.startswith(("p", "n")) else 1) + (1 if name.startswith("np") else 0)
        literal = [
            a.value for a in node.args[:wanted] if isinstance(a, ast.Constant) and isinstance(a.value, str)
        ]
        if len(literal) == wanted:
            calls.append((name, literal, node.lineno))
        elif any(isinstance(a, ast.JoinedStr) for a in node.args[:wanted]):
            dynamic.append(node.lineno)  # _(f"...") can never be translated
    return calls, dynamic


def _templates() -> list[Path]:
    found = [BASE_DIR / "templates" / "base.html"]
    for folder in TEMPLATE_DIRS:
        found += sorted((BASE_DIR / "templates" / folder).rglob("*.html"))
    return found


def _python_files() -> list[Path]:
    found = []
    for app in APPS:
        found += [p for p in sorted((BASE_DIR / app).rglob("*.py")) if "migrations" not in p.parts]
    return found


def _rel(path: Path) -> str:
    return str(path.relative_to(BASE_DIR))


def test_it_has_a_compiled_german_catalog(catalog):
    assert len(catalog._catalog) > 500


@pytest.mark.parametrize(("msgid", "german"), KEY_STRINGS.items())
def test_it_shows_the_main_ui_in_german(catalog, msgid, german):
    assert catalog.gettext(msgid) == german


@pytest.mark.parametrize("path", _templates(), ids=_rel)
def test_it_translates_every_text_of_the_template(catalog, path):
    calls = _calls_in_template(path.read_text(encoding="utf-8"), origin=str(path))
    missing = sorted({" | ".join(args) for kind, args in calls if not _is_translated(catalog, kind, args)})
    assert not missing, f"{_rel(path)}: no German translation for {missing}"


@pytest.mark.parametrize("path", _python_files(), ids=_rel)
def test_it_translates_every_text_of_the_code(catalog, path):
    calls, dynamic = _calls_in_python(path)
    missing = sorted(
        {
            f"line {line}: {' | '.join(args)}"
            for kind, args, line in calls
            if not _is_translated(catalog, kind, args)
        }
    )
    assert not missing, f"{_rel(path)}: no German translation for {missing}"
    assert not dynamic, f"{_rel(path)}: gettext of an f-string on lines {dynamic} (use %(name)s placeholders)"


def _msgid(text: Promise) -> str:
    with translation.override(None):
        return str(text)


def _model_texts(model) -> list[tuple[str, str]]:
    """Marked-for-translation verbose names, help texts and choice labels of a model.
    Labels with a context (pgettext_lazy) come back already translated when German,
    so they are checked by comparing both languages."""
    texts = []
    for option in ("verbose_name", "verbose_name_plural"):
        # Only names the model declares; Django's generated "<name>s" plural is no msgid.
        if option in model._meta.original_attrs and isinstance(getattr(model._meta, option), Promise):
            texts.append((f"Meta.{option}", _msgid(getattr(model._meta, option))))
    for field in model._meta.get_fields():
        if field.auto_created:
            continue
        for attr in ("verbose_name", "help_text"):
            value = getattr(field, attr, None)
            if isinstance(value, Promise):
                texts.append((f"{field.name}.{attr}", _msgid(value)))
        for _value, label in getattr(field, "flatchoices", None) or []:
            if isinstance(label, Promise):
                with translation.override("de"):
                    german = str(label)
                if german == _msgid(label):
                    texts.append((f"{field.name} choice", _msgid(label)))
    return texts


@pytest.mark.parametrize("app_label", APPS)
def test_it_translates_the_model_verbose_names(catalog, app_label):
    try:
        config = apps.get_app_config(app_label)
    except LookupError:
        pytest.skip(f"{app_label} is not installed")
    missing = sorted(
        f"{model.__name__}.{where}: {text}"
        for model in config.get_models()
        for where, text in _model_texts(model)
        if text and not _is_translated(catalog, "gettext", [text])
    )
    assert not missing, f"no German translation for {missing}"


def test_it_catches_a_text_without_translation(catalog):
    """The checks above are not vacuous: an unknown text is reported, from a template and
    from an f-string in code (a place makemessages does not look)."""
    template_calls = _calls_in_template(
        '{% load i18n %}<h1>{% translate "A text nobody translated" %}</h1>'
        "{% blocktranslate with n=count %}{{ n }} unknown things{% endblocktranslate %}",
        origin="inline",
    )
    assert template_calls == [
        ("gettext", ["A text nobody translated"]),
        ("gettext", ["%(n)s unknown things"]),
    ]
    assert not any(_is_translated(catalog, kind, args) for kind, args in template_calls)
    assert _is_translated(catalog, "gettext", ["Customers"])


def test_it_sees_gettext_inside_f_strings_and_flags_gettext_of_f_strings(catalog, tmp_path):
    source = tmp_path / "example.py"
    source.write_text(
        "from django.utils.translation import gettext as _\n"
        "label = f\"{_('financed by')} {_('A text nobody translated')}\"\n"
        'broken = _(f"Hello {label}")\n',
        encoding="utf-8",
    )
    calls, dynamic = _calls_in_python(source)
    assert sorted(args[0] for _kind, args, _line in calls) == ["A text nobody translated", "financed by"]
    assert dynamic == [3]
    assert [args[0] for kind, args, _line in calls if not _is_translated(catalog, kind, args)] == [
        "A text nobody translated"
    ]
