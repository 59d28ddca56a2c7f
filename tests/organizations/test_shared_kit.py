"""The form, filter, bulk-insert and error-page kit lives on the ground floor
(organizations), once: feature apps use it from there and keep no copies of their own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.urls import resolve, reverse

from organizations.forms import ModelErrorsAtFieldsMixin, StyledFormMixin, add_service_errors

ROOT = Path(__file__).resolve().parents[2]
APPS = ["billing", "catalog", "customers", "dashboard", "documents", "financing", "folders", "organizations"]
APPS += ["payments", "portal", "reports"]
# The kit, by the module that owns it; no other module defines a name of it.
KIT = {
    "organizations.forms": {
        "TenantModelForm",
        "tenant_formfield",
        "add_service_errors",
        "ModelErrorsAtFieldsMixin",
        "not_negative",
    },
    "organizations.filters": {"YES_NO"},
    "organizations.bulk": {"insert_rows"},
    "organizations.errors": {"error_400", "error_403", "error_404", "error_405", "error_500"},
}
# Copies the kit replaced, under the names they had.
COPIES = {"_service_errors", "_errors_for", "_ModelErrorsAtFieldsMixin", "_not_negative"}


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            yield name, ast.parse(path.read_text(encoding="utf-8"))


def _defined(tree) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return names


def test_it_defines_each_kit_piece_once_on_the_ground_floor():
    kit = set().union(*KIT.values())
    for name, tree in _modules():
        own = KIT.get(name, set())
        assert own <= _defined(tree), name
        strays = (_defined(tree) & (kit - own)) | (_defined(tree) & COPIES)
        assert not strays, f"{name} defines {sorted(strays)}"


def test_it_imports_no_kit_piece_from_catalog_outside_catalog():
    kit = set().union(*KIT.values())
    for name, tree in _modules():
        if name.startswith("catalog."):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("catalog."):
                borrowed = {alias.name for alias in node.names} & kit
                assert not borrowed, f"{name} takes {sorted(borrowed)} from {node.module}"


class ShownForm(StyledFormMixin, forms.Form):
    name = forms.CharField()


def test_it_puts_a_service_error_at_the_field_the_form_shows_and_the_rest_on_top():
    form = ShownForm(data={"name": "x"})
    assert form.is_valid()
    add_service_errors(form, ValidationError({"name": "taken", "iban": "missing"}))
    assert form.errors["name"] == ["taken"]
    assert form.errors[NON_FIELD_ERRORS] == ["missing"]
    plain = ShownForm(data={"name": "x"})
    plain.is_valid()
    add_service_errors(plain, ValidationError("refused"))
    assert plain.non_field_errors() == ["refused"]


class _Checked:
    def _update_errors(self, errors):
        self.passed_on = errors


class CheckedForm(ModelErrorsAtFieldsMixin, _Checked):
    fields = {"name": None}


def test_it_moves_model_errors_of_fields_the_form_does_not_show_to_the_summary():
    form = CheckedForm()
    form._update_errors(ValidationError({"name": "bad", "iban": "missing"}))
    assert set(form.passed_on.error_dict) == {"name", NON_FIELD_ERRORS}


@pytest.mark.parametrize("handler", ["handler400", "handler403", "handler404", "handler500"])
def test_it_serves_the_error_pages_from_the_ground_floor(handler):
    from config import urls

    assert getattr(urls, handler).startswith("organizations.errors.")


def test_it_keeps_the_dashboard_url_name_in_its_own_app():
    assert resolve(reverse("dashboard")).func.__module__ == "dashboard.views"
