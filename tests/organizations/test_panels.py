"""The panel registry: a page asks for its panels, each data function runs once, panels
with nothing to show are left out, and the template includes each panel with its data."""

from __future__ import annotations

import pytest
from django.template import Context, Engine
from django.test import RequestFactory

from organizations import panels
from organizations.panels import Panel, page_panels, panel_register, panels_for
from organizations.templatetags.ui import lookup

PAGE = "test.page"


@pytest.fixture
def registry(monkeypatch):
    """An empty registry for the test page (the apps' registrations stay untouched)."""
    monkeypatch.setattr(panels, "_PAGES", {})
    return panels._PAGES


@pytest.fixture
def request_():
    return RequestFactory().get("/")


def test_it_orders_a_pages_panels_by_order_then_name(registry):
    panel_register(PAGE, Panel("zeta", "z.html", lambda request, obj: {}))
    panel_register(PAGE, Panel("alpha", "a.html", lambda request, obj: {}))
    panel_register(PAGE, Panel("first", "f.html", lambda request, obj: {}, order=10))
    assert [panel.name for panel in panels_for(PAGE)] == ["first", "alpha", "zeta"]
    assert panels_for("no.such.page") == []


def test_registering_a_name_again_replaces_the_panel(registry):
    panel_register(PAGE, Panel("docs", "old.html", lambda request, obj: {}))
    panel_register(PAGE, Panel("docs", "new.html", lambda request, obj: {}))
    assert [panel.template for panel in panels_for(PAGE)] == ["new.html"]


def test_it_calls_each_data_function_once_and_groups_the_panels_by_slot(registry, request_):
    calls = []

    def data(name, result):
        def function(request, obj):
            calls.append((name, request, obj))
            return result

        return function

    panel_register(PAGE, Panel("alert", "alert.html", data("alert", None), slot="alerts"))
    panel_register(PAGE, Panel("docs", "docs.html", data("docs", {"documents": [1, 2]}), order=20))
    panel_register(PAGE, Panel("money", "money.html", data("money", {"total": 3}), order=10))
    shown = page_panels(PAGE, request_, "the object")
    assert sorted(name for name, *_ in calls) == ["alert", "docs", "money"]
    assert all(request is request_ and obj == "the object" for _, request, obj in calls)
    assert list(shown.slots) == ["main"]  # the alert had nothing to show
    assert [(item.name, item.template, item.data) for item in shown.slots["main"]] == [
        ("money", "money.html", {"total": 3}),
        ("docs", "docs.html", {"documents": [1, 2]}),
    ]
    assert shown.data == {"money": {"total": 3}, "docs": {"documents": [1, 2]}}


def test_a_page_includes_each_panel_with_its_data(registry, request_, tmp_path):
    (tmp_path / "money.html").write_text("<p>{{ panel.total }} for {{ customer }}</p>")
    (tmp_path / "docs.html").write_text("<ul>{% for d in panel.documents %}<li>{{ d }}</li>{% endfor %}</ul>")
    panel_register(PAGE, Panel("money", "money.html", lambda request, obj: {"total": obj * 2}))
    panel_register(
        PAGE, Panel("docs", "docs.html", lambda request, obj: {"documents": ["A", "B"]}, order=200)
    )
    page = Engine(dirs=[str(tmp_path)]).from_string(
        "{% for item in panels.slots.main %}{% include item.template with panel=item.data %}{% endfor %}"
    )
    html = page.render(Context({"panels": page_panels(PAGE, request_, 21), "customer": "Muster AG"}))
    assert html == "<p>42 for Muster AG</p><ul><li>A</li><li>B</li></ul>"


def test_lookup_reads_a_value_under_a_variable_key():
    assert lookup({7: "Hanse Leasing AG"}, 7) == "Hanse Leasing AG"
    assert lookup({7: "Hanse Leasing AG"}, 8) is None
    assert lookup("", 7) is None  # a panel that is not registered on the page
    assert lookup(None, 7) is None
