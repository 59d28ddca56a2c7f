#!/usr/bin/env bash
# Refresh the German catalog: collect every msgid from code and templates, fold in the
# translations kept in locale/pending/*.po (they win), and compile.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
main=locale/de/LC_MESSAGES/django.po
$PY manage.py makemessages -l de --no-obsolete --no-location \
  --ignore='.venv/*' --ignore='static/*' --ignore='staticfiles/*' --ignore='tests/*' --ignore='media/*' --ignore='var/*' >/dev/null
shopt -s nullglob
pending=(locale/pending/*.po)
if [ ${#pending[@]} -gt 0 ]; then
  msgcat --use-first --no-location -o "$main.tmp" "${pending[@]}" "$main"
  # Keep only the msgids the code still uses, with the merged translations.
  msgmerge --quiet --no-fuzzy-matching --no-location -o "$main.new" "$main.tmp" "$main"
  mv "$main.new" "$main"
  rm -f "$main.tmp"
fi
$PY manage.py compilemessages -l de >/dev/null
untranslated=$(msgattrib --untranslated --no-obsolete "$main" | grep -c '^msgid ' || true)
fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$main" | grep -c '^msgid ' || true)
echo "German catalog: $(grep -c '^msgid ' "$main") entries, ${untranslated} untranslated (minus the header), ${fuzzy} fuzzy (guessed, not used: translate them in locale/pending)."
