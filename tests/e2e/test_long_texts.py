"""The longest texts the forms allow never widen a page: a note or a line description of one
unbroken word wraps inside its card on a desktop and on a phone."""

from __future__ import annotations

import pytest

from organizations.forms import LINE_MAX_LENGTH, TEXT_MAX_LENGTH
from tests.customers.factories import CustomerFactory, NoteFactory
from tests.documents.factories import FolderFactory, oneoff
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width,height", [(1440, 900), (390, 844)])
def test_a_long_word_in_a_note_or_a_line_wraps_inside_the_page(page, org, admin_user, width, height):
    customer = CustomerFactory(organization=org, name="Bäckerei Schulz KG")
    NoteFactory(organization=org, customer=customer, text="Langeswort" * (TEXT_MAX_LENGTH // 10))
    folder = FolderFactory(organization=org, customer=customer)
    oneoff(folder, description="Seriennummernliste" * (LINE_MAX_LENGTH // 18), equipment=False)
    page.set_viewport_size({"width": width, "height": height})
    login(page, "admin")
    for path in (f"/customers/{customer.pk}/", f"/folders/{folder.pk}/"):
        page.goto(page.base_url + path)
        page.wait_for_load_state("networkidle")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, (path, scroll_width)
