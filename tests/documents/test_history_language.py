"""What the document services write into a history is stored as a code and read in the
reader's language: a quote accepted by a German colleague reads in English for an English one."""

from __future__ import annotations

import pytest
from django.utils import translation

from documents import services
from organizations.models import AuditEntry
from organizations.system_texts import render_text

pytestmark = pytest.mark.django_db


def test_a_quote_accepted_and_an_invoice_cancelled_read_in_the_readers_language(
    direct_folder, admin_user, issue_quote
):
    quote = issue_quote(direct_folder, admin_user)
    services.quote_accept(quote=quote, user=admin_user)
    entry = AuditEntry.objects.filter(action="quote.accepted").latest("id")
    assert entry.data["message"] == {"code": "documents.quote_accepted", "params": {"number": quote.number}}
    with translation.override("en"):
        assert render_text(entry.data["message"]) == f"Quote {quote.number} accepted."
    with translation.override("de"):
        assert render_text(entry.data["message"]) == f"Angebot {quote.number} angenommen."
