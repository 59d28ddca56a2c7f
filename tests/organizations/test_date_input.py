"""Date fields show and take dates as a German clerk writes them, whatever the browser."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from django.urls import reverse
from django.utils import translation

from organizations.forms import StyledFormMixin
from tests.folders.factories import FolderFactory


class _Form(StyledFormMixin, forms.Form):
    day = forms.DateField()


def test_it_renders_a_text_field_in_german_format():
    html = str(_Form(initial={"day": dt.date(2026, 12, 1)})["day"])
    assert 'type="text"' in html
    assert 'type="date"' not in html
    assert 'value="01.12.2026"' in html
    assert 'placeholder="TT.MM.JJJJ"' in html
    assert "pattern=" in html


def test_it_renders_the_day_first_in_english_too():
    with translation.override("en"):
        html = str(_Form(initial={"day": dt.date(2026, 12, 1)})["day"])
    assert 'value="01/12/2026"' in html
    assert 'placeholder="DD/MM/YYYY"' in html


@pytest.mark.parametrize("typed", ["01.12.2026", "1.12.2026", "01.12.26", "2026-12-01"])
def test_it_accepts_german_and_iso_dates(typed):
    form = _Form(data={"day": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == dt.date(2026, 12, 1)


def test_it_refuses_a_date_that_does_not_exist_in_german():
    form = _Form(data={"day": "31.02.2026"})
    assert not form.is_valid()
    assert "gültiges Datum" in str(form.errors["day"])


@pytest.mark.django_db
def test_it_shows_the_folder_start_date_in_german(org, admin_client):
    folder = FolderFactory(organization=org, start_date=dt.date(2026, 3, 9))
    html = admin_client.get(reverse("folders:edit", args=[folder.pk])).content.decode()
    assert 'value="09.03.2026"' in html


@pytest.mark.django_db
def test_it_gives_the_document_filter_german_date_fields(org, admin_client):
    html = admin_client.get(reverse("documents:invoices"), {"date_from": "01.12.2026"}).content.decode()
    assert 'name="date_from"' in html
    assert 'value="01.12.2026"' in html
    assert 'placeholder="TT.MM.JJJJ"' in html
