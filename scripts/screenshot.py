"""Screenshots of back-office pages as a user sees them (headless Chromium via Playwright).

    .venv/bin/python scripts/screenshot.py --base http://127.0.0.1:8000 --user admin \
        --password demo-admin-2026 --out screenshots / /customers/ /customers/1/

Takes each path at 1440x900 and 390x844 and writes PNGs named after the path
(with --lang en: the English UI, PNGs named <path>.en.<size>.png).
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
SIZES = {"desktop": (1440, 900), "mobile": (390, 844)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="demo-admin-2026")
    parser.add_argument("--out", default="screenshots")
    parser.add_argument("--full", action="store_true", help="full-page screenshots")
    parser.add_argument("--sizes", default="desktop,mobile")
    parser.add_argument(
        "--lang", default="", help="UI language (sets the django_language cookie), e.g. en or de"
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        for size_name in args.sizes.split(","):
            width, height = SIZES[size_name]
            # The browser's own locale decides how date inputs and file pickers look.
            locale = {"en": "en-GB"}.get(args.lang, "de-DE")
            context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
            if args.lang:
                host = urlsplit(args.base).hostname or "127.0.0.1"
                context.add_cookies(
                    [{"name": "django_language", "value": args.lang, "domain": host, "path": "/"}]
                )
            page = context.new_page()
            page.goto(f"{args.base}/accounts/login/")
            page.fill("#id_username", args.user)
            page.fill("#id_password", args.password)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            for path in args.paths:
                page.goto(f"{args.base}{path}")
                page.wait_for_load_state("networkidle")
                name = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "root"
                suffix = f".{args.lang}" if args.lang else ""
                target = out / f"{name}{suffix}.{size_name}.png"
                page.screenshot(path=str(target), full_page=args.full)
                # A page that scrolls sideways is a layout bug; say so next to the PNG.
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                print(target, f"(scrolls sideways by {overflow}px)" if overflow > 0 else "")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
