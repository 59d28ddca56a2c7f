"""Walk every page of the back office with hostile parameters: no input may give a 500.

The walk reuses the tenant wall's route discovery, so every new view is covered. For each
page that renders, it reads the page's own forms: every parameter of a GET form (filter
bars, pagination, switches) is sent with a negative number, zero, a number too large for
any column, text and out-of-range dates; every POST form is submitted with the same kind
of values in all of its fields. The answer must be a page, a redirect or a clear 4xx.
"""

from __future__ import annotations

from urllib.parse import urlencode, urljoin, urlsplit

import lxml.html
import pytest

from tests.test_tenant_wall import seeded, urls_for  # noqa: F401  (the fixture is used by name)

BAD_VALUES = ["-1", "0", "99999999999999999999", "abc", "1899-12-31", "9999-12-31"]
# Parameters every list understands even when its page shows no field for them.
LIST_PARAMETERS = ["page", "per_page", "sort", "year", "month", "week", "view", "customer", "q"]
ALLOWED = {200, 302, 400, 403, 404, 405}


def _forms(response):
    if response.status_code != 200 or response.streaming:
        return []
    if "text/html" not in response.get("Content-Type", ""):
        return []
    return lxml.html.fromstring(response.content).forms


def _pages(client, pks):
    """One rendered page per route (the first of its URLs that answers 200): the walk probes
    each view's parameters once, not once per object."""
    done = set()
    for name, url in urls_for(pks):
        if name in done:
            continue
        response = client.get(url)
        if response.status_code == 200:
            done.add(name)
            yield url, response


def _field_names(form) -> list[str]:
    names = []
    for element in form.inputs:
        name = element.get("name")
        if name and name != "csrfmiddlewaretoken" and element.get("type") not in ("submit", "button"):
            names.append(name)
    return list(dict.fromkeys(names))


@pytest.mark.slow
@pytest.mark.django_db
def test_no_parameter_or_form_value_gives_a_server_error(seeded, admin_user, client_for):  # noqa: F811
    # One test, so the demo data is seeded once for both walks.
    client = client_for(admin_user)
    pages = list(_pages(client, seeded))
    errors, probed, posted = [], 0, 0
    for url, page in pages:
        names = set(LIST_PARAMETERS)
        for form in _forms(page):
            if (form.method or "GET").upper() == "GET":
                names.update(_field_names(form))
        for name in sorted(names):
            for value in BAD_VALUES:
                probe = f"{url}?{urlencode({name: value})}"
                status = client.get(probe).status_code
                probed += 1
                if status not in ALLOWED:
                    errors.append(("GET", probe, status))
    for url, page in pages:
        for form in _forms(page):
            if (form.method or "GET").upper() != "POST":
                continue
            names = _field_names(form)
            if not names:
                continue
            action = urlsplit(urljoin(url, form.action or url)).path
            for value in BAD_VALUES:
                status = client.post(action, {name: value for name in names}).status_code
                posted += 1
                if status not in ALLOWED:
                    errors.append(("POST", action, value, status))
    assert probed > 500 and posted > 50, (probed, posted)
    assert not errors, errors
