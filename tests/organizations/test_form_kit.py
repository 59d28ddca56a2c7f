"""The shared form kit bounds every input: text length, direction controls, numbers, dates
and choice keys are refused or cleaned at the field, never passed on to the database."""

from __future__ import annotations

import pytest
from django import forms

from customers.models import Customer
from organizations.forms import LINE_MAX_LENGTH, TEXT_MAX_LENGTH, StyledFormMixin


class NoteForm(StyledFormMixin, forms.Form):
    name = forms.CharField()
    text = forms.CharField(widget=forms.Textarea)
    count = forms.IntegerField(required=False)
    day = forms.DateField(required=False)


def test_free_text_has_a_limit_with_a_message():
    form = NoteForm(data={"name": "x", "text": "W" * (TEXT_MAX_LENGTH + 1)})
    assert not form.is_valid()
    assert "höchstens 5000 Zeichen" in form.errors["text"][0]
    assert NoteForm(data={"name": "N" * (LINE_MAX_LENGTH + 1), "text": "x"}).errors["name"]
    assert NoteForm(data={"name": "x", "text": "W" * TEXT_MAX_LENGTH}).is_valid()
    assert 'maxlength="5000"' in str(NoteForm()["text"])


def test_direction_controls_are_stripped_from_names():
    form = NoteForm(data={"name": "Rechnung\u202efdp.exe\u2066", "text": "a\u200fb"})
    assert form.is_valid()
    assert form.cleaned_data["name"] == "Rechnungfdp.exe"
    assert form.cleaned_data["text"] == "ab"


@pytest.mark.parametrize("value", ["99999999999999999999", "-99999999999"])
def test_integers_beyond_the_database_are_a_field_error(value):
    form = NoteForm(data={"name": "x", "text": "y", "count": value})
    assert not form.is_valid() and "count" in form.errors


def test_dates_outside_the_business_range_are_a_field_error():
    form = NoteForm(data={"name": "x", "text": "y", "day": "1899-12-31"})
    assert not form.is_valid() and "day" in form.errors


class PickForm(StyledFormMixin, forms.Form):
    customers = forms.ModelMultipleChoiceField(queryset=Customer.objects.none())
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), required=False)


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["99999999999999999999", "abc", "-1", "1e9"])
def test_a_choice_key_that_no_row_can_have_is_an_invalid_choice(value, django_assert_num_queries):
    with django_assert_num_queries(0):
        form = PickForm(data={"customers": [value], "customer": value})
        assert not form.is_valid()
    assert set(form.errors) == {"customers", "customer"}
