"""Walk the back office as each role and follow what every page offers: no link and no
form may lead to a 403. A page offers only what the user may do; what the role may not
do is hidden or shown disabled with the reason, never as a link that ends in "forbidden".

GET links and GET forms are requested. POST forms are sent with an empty body inside a
transaction that is rolled back, so the walk checks the role's right to post there
(200 with form errors, 302, 400, 404 or 405 are fine) without changing the demo data.
"""

from __future__ import annotations

from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.db import transaction
from django.urls import Resolver404, resolve

from tests import test_tenant_wall
from tests.test_tenant_wall import urls_for

seeded = test_tenant_wall.seeded  # the demo data of every app, as the tenant wall walks it

ROLES = ["admin", "billing", "sales", "support", "readonly"]
# Never followed: they end the session or switch what the session shows.
SKIP = {"login", "logout", "set_language", "organizations:switch"}
# How many distinct URLs of one route are followed (a document page differs by kind and status).
PER_ROUTE = 3


class _Offers(HTMLParser):
    """The links and forms a page offers."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if attrs.get("hx-get"):  # fragments a page loads by itself (progress, PDF status)
            self.links.append(attrs["hx-get"])
        elif tag == "form":
            self.forms.append(((attrs.get("method") or "get").lower(), attrs.get("action") or ""))


def _internal(base: str, href: str) -> str | None:
    """The path (and query) of an internal URL, or None for external, anchors, mailto."""
    if href.startswith(("#", "mailto:", "tel:", "javascript:")):
        return None
    parts = urlsplit(urljoin(base, href))
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
        return None
    if parts.path.startswith(("/static/", "/media/")):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _route(url: str) -> str | None:
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    return match.view_name


def _walk(client, pks: dict[str, int]) -> list[tuple]:
    """Every offered link or form (what, URL, the page that offers it) that answers 403."""
    forbidden: list[tuple] = []
    per_route: dict[str, int] = defaultdict(int)
    status: dict[str, int] = {}  # GET answers by URL; start pages may be 403 (not offered)
    posted: set[str] = set()
    queue: list[str] = []

    def offered(url: str, source: str | None) -> None:
        name = _route(url)
        if name is None or name in SKIP:
            return
        if url not in status:
            if per_route[name] >= PER_ROUTE:
                return
            per_route[name] += 1
            status[url] = -1
            queue.append(url)
            visit(url)
        if source is not None and status[url] == 403 and ("GET", url, "from", source) not in forbidden:
            forbidden.append(("GET", url, "from", source))

    def visit(url: str) -> None:
        response = client.get(url)
        status[url] = response.status_code
        if response.status_code != 200 or response.streaming:
            return
        if not response.get("Content-Type", "").startswith("text/html"):
            return
        pages.append((url, response.content.decode(errors="replace")))

    pages: list[tuple[str, str]] = []
    for _name, url in urls_for(pks):
        if "<" not in url:
            offered(url, None)
    while pages:
        url, content = pages.pop(0)
        page = _Offers()
        page.feed(content)
        for href in page.links:
            target = _internal(url, href)
            if target is not None:
                offered(target, url)
        for method, action in page.forms:
            target = _internal(url, action or url)
            if target is None:
                continue
            if method == "get":
                offered(urlsplit(target).path, url)
                continue
            name = _route(target)
            if name is None or name in SKIP or target in posted:
                continue
            posted.add(target)
            with transaction.atomic():
                answer = client.post(target, {}).status_code
                transaction.set_rollback(True)
            if answer == 403:
                forbidden.append(("POST", target, "from", url))
    return forbidden


@pytest.mark.slow
@pytest.mark.django_db
def test_it_offers_no_link_or_form_that_answers_403_to_any_role(seeded, client_for, request):
    found = {}
    for role in ROLES:
        forbidden = _walk(client_for(request.getfixturevalue(f"{role}_user")), seeded)
        if forbidden:
            found[role] = forbidden
    assert not found, "\n".join(f"{role}: {' '.join(hit)}" for role, hits in found.items() for hit in hits)
