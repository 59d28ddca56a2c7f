#!/usr/bin/env python3
"""Check the Debian packages the product needs before `make run` or `make test` starts.

WeasyPrint loads Pango, HarfBuzz and fontconfig through ctypes, and it subsets fonts with
HarfBuzz when `libharfbuzz-subset` is present and with fontTools otherwise. The two paths
write different bytes for the same document, and an issued PDF's SHA-256 is part of the
record, so every machine must take the same path: the library is required, not optional.

The package list lives in `scripts/system-packages.txt` (one line per package with the
library or command that proves it is there); `.ci/run` and the Dockerfile install the same
list. Exit status 1 with the exact `apt-get install` line when something is missing.

Usage: system_check.py run|test
"""

from __future__ import annotations

import ctypes.util
import shutil
import sys
from pathlib import Path

PACKAGES = Path(__file__).with_name("system-packages.txt")


def requirements(purpose: str) -> list[tuple[str, str, str]]:
    """(package, kind, probe) rows of the list that `purpose` needs."""
    rows = []
    for raw in PACKAGES.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        package, needed_for, kind, probe = line.split()
        if purpose in needed_for.split(","):
            rows.append((package, kind, probe))
    return rows


def present(kind: str, probe: str) -> bool:
    if kind == "lib":
        return ctypes.util.find_library(probe) is not None
    if kind == "cmd":
        return shutil.which(probe) is not None
    if kind == "file":
        return Path(probe).exists()
    raise ValueError(f"unknown probe kind {kind!r} in {PACKAGES.name}")


def main(argv: list[str]) -> int:
    purpose = argv[1] if len(argv) > 1 else "run"
    missing = [package for package, kind, probe in requirements(purpose) if not present(kind, probe)]
    if not missing:
        return 0
    print(f"Missing system packages for `make {purpose}`: {', '.join(missing)}", file=sys.stderr)
    print(f"Install them with:  sudo apt-get install -y {' '.join(missing)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
