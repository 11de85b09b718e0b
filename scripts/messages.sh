#!/usr/bin/env bash
# Refreshes the English catalogue from the source, compiles it, and lists what still needs translating.
# Run it after adding or changing user-facing text (and after merging branches that did); see docs/i18n.md.
# Exits 1 while any entry is untranslated or fuzzy. Needs GNU gettext (apt-get install gettext).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
PO=geo_siac/locale/en/LC_MESSAGES/django.po

command -v msgfmt >/dev/null || { echo "GNU gettext is missing: apt-get install gettext" >&2; exit 1; }

# All translatable text lives under geo_siac/; the rest is tooling, output, data or the virtualenv.
"$PY" manage.py makemessages --locale en --no-obsolete --ignore=.venv --ignore=bench --ignore=notebooks \
    --ignore=tests --ignore=fixtures --ignore=scripts --ignore=test-output --ignore=var --ignore=staticfiles \
    --ignore=media
"$PY" manage.py compilemessages --locale en --ignore=.venv

untranslated="$(msgattrib --untranslated "$PO" | grep -c '^#: ' || true)"
fuzzy="$(msgattrib --only-fuzzy "$PO" | grep -c '^#: ' || true)"
if [ "$untranslated" -gt 0 ] || [ "$fuzzy" -gt 0 ]; then
  msgattrib --untranslated "$PO" | sed '1,/^$/d'  # without the header entry
  msgattrib --only-fuzzy "$PO" | sed '1,/^$/d'
  echo "$untranslated untranslated and $fuzzy fuzzy entries in $PO (listed above): translate them, delete each" \
       "'#, fuzzy' flag and its '#|' lines, and run this script again." >&2
  exit 1
fi
echo "$PO: every entry translated; django.mo compiled. Commit both files."
