"""Document lines store a unit code ("piece") instead of the German or English word the
document was written with ("Stk."); pages and PDFs label it for the quantity and the
language (catalog.units.unit_label). Words that are no known unit stay as typed.

The stored PDFs of issued documents are not touched (GoBD: the issued bytes stand); a
PDF rendered again reads "Stück" where the old one read "Stk.", the same unit.
"""

from django.db import migrations

# Frozen here: the migration must not change when catalog.units does.
WORDS = {
    "piece": ["stk", "stk.", "stück", "stueck", "st", "st.", "pc", "pc.", "pcs", "pcs.", "piece", "pieces"],
    "hour": ["std", "std.", "stunde", "stunden", "h", "hour", "hours"],
    "month": ["monat", "monate", "mon.", "month", "months"],
    "year": ["jahr", "jahre", "year", "years"],
    "page": ["seite", "seiten", "page", "pages"],
    "licence": ["lizenz", "lizenzen", "licence", "licences", "license", "licenses"],
    "line": ["anschluss", "anschlüsse", "line", "lines"],
    "flat": ["pauschal", "pauschale", "psch.", "pausch.", "flat", "flat rate"],
}
LABELS = {  # the words documents.texts.UNITS wrote, for going back
    "piece": "Stk.",
    "hour": "Std.",
    "month": "Monat",
    "year": "Jahr",
    "page": "Seite",
    "licence": "Lizenz",
    "line": "Anschluss",
    "flat": "pauschal",
}


def to_codes(apps, schema_editor):
    lines = apps.get_model("documents", "DocumentLine")._base_manager
    by_word = {word: code for code, words in WORDS.items() for word in words}
    for stored in lines.exclude(unit="").values_list("unit", flat=True).distinct():
        code = by_word.get(stored.strip().lower())
        if code is not None and code != stored:
            lines.filter(unit=stored).update(unit=code)


def to_words(apps, schema_editor):
    lines = apps.get_model("documents", "DocumentLine")._base_manager
    for code, label in LABELS.items():
        lines.filter(unit=code).update(unit=label)


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0005_document_tax_exemption"),
    ]

    operations = [migrations.RunPython(to_codes, to_words)]
