"""Walk every URL pattern of the back office with objects of another organization.

The outsider (admin of a second organization without data) must get 404 (or 403/405),
never a 200 and never a 500; read-only staff must not be able to write anywhere; and no
pattern ends in a 500 for unknown or foreign ids. The walk discovers URL patterns from
the resolver, so every new view is covered without touching this file.
"""

from __future__ import annotations

import importlib
import importlib.util
import random

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter

from organizations.models import TenantModel

pytestmark = pytest.mark.slow

SEED_APPS = ["customers", "catalog", "folders", "financing", "documents", "billing"]

# Patterns that are not tenant data: authentication, language, the switcher itself.
SKIP = {"login", "login_code", "logout", "set_language", "organizations:switch"}
# POST endpoints any member may use (they change only the user's own session, view or login).
POST_OPEN = {"reports:search", "organizations:security"}
STRING_SAMPLES = ["invoice", "quote", "x"]


def _walk(resolvers, prefix="", namespace=""):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", prefix + str(entry.pattern), entry.pattern.converters


def patterns():
    """The back office's patterns; the customer portal has a walk of its own."""
    return [
        p for p in _walk(get_resolver().url_patterns) if p[0] not in SKIP and not p[0].startswith("portal:")
    ]


def _first_pks(org) -> dict[str, int]:
    """The first object's pk of every tenant model that has rows in `org`."""
    pks = {}
    for model in apps.get_models():
        if issubclass(model, TenantModel):
            obj = model.objects.filter(organization=org).order_by("pk").first()
            if obj is not None:
                pks[model._meta.model_name] = obj.pk
    return pks


def _fill(route: str, converters, values: dict[str, object]) -> str:
    import re

    def repl(match):
        name = match.group(2)
        return str(values[name])

    return re.sub(r"<(?:(\w+):)?(\w+)>", repl, route)


def _own_pks(org) -> set[int]:
    """Every pk of any row that belongs to `org` (tenant rows and memberships alike)."""
    pks = set()
    for model in apps.get_models():
        if any(f.name == "organization" and f.is_relation for f in model._meta.fields):
            pks.update(model.objects.filter(organization=org).values_list("pk", flat=True))
    return pks


def urls_for(org_pks: dict[str, int], extra_int: int | None = None, avoid: set[int] = frozenset()):
    """Concrete URLs for every pattern: each int parameter takes the pk of the model its
    name points at (`folder_pk` -> folder) or, for plain `pk`, of every model in turn.
    Candidates in `avoid` are skipped: a plain `pk` that happens to be one of the visiting
    user's own rows would open a page that is rightly theirs."""
    for name, route, converters in patterns():
        params = list(converters.items())
        if not params:
            yield name, "/" + route
            continue
        int_params = [p for p, c in params if isinstance(c, IntConverter)]
        str_params = [p for p, c in params if not isinstance(c, IntConverter)]
        candidates = sorted(set(org_pks.values()) - avoid) if extra_int is None else [extra_int]
        seen = set()
        for candidate in candidates:
            for text in STRING_SAMPLES if str_params else [""]:
                values = {}
                for p in int_params:
                    model = p.removesuffix("_pk").removesuffix("_id")
                    values[p] = (
                        org_pks.get(model, candidate) if extra_int is None and p != "pk" else candidate
                    )
                for p in str_params:
                    values[p] = text
                url = "/" + _fill(route, converters, values)
                if url not in seen:
                    seen.add(url)
                    yield name, url


def seed_everything(org, users):
    rng = random.Random(7)
    from django_scopes import scope

    with scope(organization=org):
        for app in SEED_APPS:
            if importlib.util.find_spec(f"demo.{app}") is not None:
                importlib.import_module(f"demo.{app}").seed(org, rng=rng, users=users)


@pytest.fixture
def seeded(org, members):
    seed_everything(org, members)
    return _first_pks(org)


@pytest.mark.django_db
def test_it_never_shows_another_organizations_objects(seeded, outsider, client_for, other_org):
    assert not _first_pks(other_org), "the outsider's organization must stay empty for this walk"
    client = client_for(outsider)
    leaks, errors = [], []
    for name, url in urls_for(seeded, avoid=_own_pks(other_org)):
        if "<" in url:
            continue
        get = client.get(url)
        if get.status_code >= 500:
            errors.append(("GET", url, get.status_code))
        # A page without an id may legitimately render (an empty list of the outsider's
        # own organization); a page addressed by an id of `org` must not.
        if get.status_code == 200 and any(ch.isdigit() for ch in url):
            leaks.append(("GET", url))
        post = client.post(url, {})
        if post.status_code >= 500:
            errors.append(("POST", url, post.status_code))
        if post.status_code in (200, 201, 302) and any(ch.isdigit() for ch in url) and name not in POST_OPEN:
            leaks.append(("POST", url, post.status_code))
    assert not errors, errors
    assert not leaks, leaks


@pytest.mark.django_db
def test_read_only_staff_cannot_write_anywhere(seeded, readonly_user, client_for):
    client = client_for(readonly_user)
    writes = []
    for name, url in urls_for(seeded):
        if name in POST_OPEN:
            continue
        response = client.post(url, {})
        if response.status_code not in (403, 404, 405):
            writes.append((url, response.status_code))
    assert not writes, writes


@pytest.mark.django_db
def test_no_url_ends_in_a_server_error_for_members(seeded, admin_user, client_for):
    client = client_for(admin_user)
    errors = []
    for _, url in list(urls_for(seeded)) + list(urls_for(seeded, extra_int=987654321)):
        for method in ("get", "post"):
            response = getattr(client, method)(url, {})
            if response.status_code >= 500:
                errors.append((method, url, response.status_code))
    assert not errors, errors


def test_the_walk_covers_the_back_office():
    names = {name for name, _, _ in patterns()}
    assert {"dashboard", "organizations:settings", "organizations:members"} <= names


MARK = "FREMDMANDANT"


def _mark_foreign_names(org) -> int:
    """Prefix every human-readable name of `org`'s rows with MARK (plain SQL updates, so
    frozen documents are left alone: they are checked through their recipient names)."""
    marked = 0
    for model in apps.get_models():
        if not issubclass(model, TenantModel) or model._meta.app_label == "documents":
            continue
        for field in ("name", "description", "last_name", "text", "serial_number", "sku", "code"):
            try:
                model._meta.get_field(field)
            except Exception:
                continue
            from django.db.models import Value
            from django.db.models.functions import Concat

            marked += model.objects.filter(organization=org).update(**{field: Concat(Value(MARK), field)})
            break
    return marked


@pytest.mark.django_db
def test_no_page_or_choice_list_offers_another_organizations_objects(
    seeded, other_org, outsider, admin_user, client_for
):
    """Both organizations have full demo data; the other one's names carry a marker that
    must never appear on any page of `org` - lists, details and every form's choices."""
    seed_everything(other_org, {"admin": outsider})
    assert _mark_foreign_names(other_org) > 50
    client = client_for(admin_user)
    shown = []
    for _name, url in urls_for(seeded):
        response = client.get(url)
        if (
            response.status_code == 200
            and not response.streaming
            and MARK in response.content.decode(errors="replace")
        ):
            shown.append(url)
    for url in ("/reports/search/?q=" + MARK, "/reports/search/?q=" + MARK.lower()):
        assert MARK not in client.get(url).content.decode().split('id="content"')[1].replace(f"„{MARK}“", "")
    assert not shown, shown
