"""What the views of every app do the same way around a service call.

A view validates a form, calls one service and redirects; when the service refuses
(a `ValidationError`), nothing was written and the user must see why: at the form's
fields when there is a form, as an error message when the view sits behind a button.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.forms import BaseForm

from .forms import add_service_errors

M = TypeVar("M", bound=models.Model)


def stored(obj: M) -> M:
    """The record as stored: a bound model form has already written the posted values onto
    its instance, and a service must see the stored ones to tell what changed."""
    return type(obj).objects.select_related().get(pk=obj.pk)


@contextmanager
def refusal_on(form: BaseForm) -> Iterator[None]:
    """Run a service for a valid form. A refusal puts its reasons at the form's fields and
    the view carries on after the block, to show the form again."""
    try:
        yield
    except ValidationError as exc:
        add_service_errors(form, exc)


@contextmanager
def refusal_as_message(request) -> Iterator[None]:
    """Run a service behind a button, with no form to show a refusal on: its reasons become
    an error message and the view carries on after the block, to its redirect."""
    try:
        yield
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))


def record_save(
    request,
    form: BaseForm,
    record: M | None,
    *,
    create: Callable[[], M],
    update: Callable[[M], object],
    created: str,
    saved: str,
) -> bool:
    """Create the record (there is none yet) or update it through its service, and say so
    with its name (`created` / `saved` take `%(name)s`). True when it was stored; a refusal
    lands on the form."""
    with refusal_on(form):
        if record is None:
            record = create()
            text = created
        else:
            update(stored(record))
            text = saved
        messages.success(request, text % {"name": record.name})
        return True
    return False
