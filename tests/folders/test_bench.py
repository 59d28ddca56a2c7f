from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled

from folders.models import Folder
from organizations.models import Organization

pytestmark = pytest.mark.slow


@pytest.mark.django_db
def test_bench_lists_times_the_pages_and_cleans_up():
    out = io.StringIO()
    call_command("bench_lists", folders=60, customers=12, runs=1, stdout=out)
    text = out.getvalue()
    assert "folders: first page" in text
    assert "customers: first page" in text
    for line in text.splitlines():
        if line.startswith(("folders:", "customers:")):
            assert line.rstrip().endswith("200"), line
    with scopes_disabled():
        assert not Organization.objects.filter(slug__startswith="bench-").exists()
        assert not Folder.objects.exists()
