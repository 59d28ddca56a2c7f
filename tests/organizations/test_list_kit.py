"""Every list counts and pages the same way."""

from __future__ import annotations

import django_tables2 as tables
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import RequestFactory


class _Table(tables.Table):
    name = tables.Column()


def test_it_shows_a_lists_count_with_german_grouping():
    html = render_to_string("partials/_count.html", {"count": 1234})
    assert 'class="badge rounded-pill count-badge"' in html
    assert ">1.234<" in html
    assert ">12 / 1.234<" in render_to_string("partials/_count.html", {"count": 12, "of": 1234})
    assert ">0<" in render_to_string("partials/_count.html", {"count": None})


def test_it_gives_every_table_the_one_pagination_bar():
    """Tables rendered without naming a template get the house one too (the document and
    billing run lists did not)."""
    request = RequestFactory().get("/", {"page": "2"})
    table = _Table([{"name": f"Kunde {i}"} for i in range(1234)])
    table.paginate(page=2, per_page=25)
    html = Template("{% load django_tables2 %}{% render_table table %}").render(
        Context({"table": table, "request": request})
    )
    assert 'class="table-pagination"' in html
    assert "26–50 von 1.234" in html
    assert 'aria-label="Nächste Seite"' in html
