"""Walk every URL pattern of the customer portal as a logged-in contact, with the ids of
another customer's rows (same organization) and another organization's rows.

The patterns are discovered from the resolver, so every portal page added later (tickets,
security) is walked without touching this file. Every page addressed by a foreign id must
answer 404 (or send to the login, or refuse the method): never 200, never a file; and no
page the contact may open shows another customer's document numbers, folders or serials.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter

from documents.models import Document
from organizations.models import TenantModel
from tests.customers.factories import ContactFactory, CustomerFactory
from tests.documents.factories import FolderFactory, deliver, finance, financier, oneoff, recurring
from tests.organizations.factories import MembershipFactory, UserFactory
from tests.payments.factories import issued_credit_note, issued_invoice

pytestmark = pytest.mark.slow

# Public pages of the portal: no tenant data, no ids of rows (a uid in a reset link is
# checked by the token, and an invalid link shows the same page for every uid).
PUBLIC = {
    "portal:login",
    "portal:logout",
    "portal:password_reset",
    "portal:password_reset_done",
    "portal:password_reset_confirm",
    "portal:invitation",
}
FILE_TYPES = ("application/pdf", "application/xml", "text/xml", "application/octet-stream")


def _walk(entries, prefix="", namespace=""):
    for entry in entries:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", prefix + str(entry.pattern), entry.pattern.converters


def portal_patterns():
    return [
        p for p in _walk(get_resolver().url_patterns) if p[0].startswith("portal:") and p[0] not in PUBLIC
    ]


def _fill(route: str, values: dict[str, object]) -> str:
    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: str(values[m.group(2)]), route)


def foreign_urls(pks: list[int]):
    for name, route, converters in portal_patterns():
        if not converters:
            continue
        for pk in pks:
            values = {p: (pk if isinstance(c, IntConverter) else "x") for p, c in converters.items()}
            yield name, _fill(route, values)


def own_urls():
    for name, route, converters in portal_patterns():
        if not converters:
            yield name, _fill(route, {})


def tenant_pks(*orgs) -> set[int]:
    pks = set()
    for model in apps.get_models():
        if issubclass(model, TenantModel):
            pks.update(model.objects.filter(organization__in=orgs).values_list("pk", flat=True))
    return pks


def books_of(org, run_on_commit, *, name: str):
    """A customer of `org` with everything the portal could show: a financed folder with
    equipment and a service, an issued invoice with its PDF, a plain invoice, a credit note,
    a portal contact of its own."""
    staff = UserFactory(username=f"staff-{org.slug}")
    MembershipFactory(organization=org, user=staff, role="admin")
    customer = CustomerFactory(organization=org, name=name)
    ContactFactory(customer=customer, has_portal_access=True, email=f"kontakt@{org.slug}.example")
    folder = FolderFactory(organization=org, customer=customer, name=f"Geheimordner {name}", status="active")
    oneoff(folder, description="Geheimes Gerät", serials=(f"SERIAL-{org.slug}-1",))
    recurring(folder, description=f"Geheimer Dienst {name}")
    deliver(folder)
    from documents import services

    invoice = run_on_commit(services.invoice_oneoff_now, folder=folder, user=staff)
    other = FolderFactory(organization=org, customer=customer, status="active")
    finance(other, financier(org, name=f"Leasing {name}"))
    plain = issued_invoice(org, customer, "119.00")
    issued_credit_note(plain, "119.00")
    return [invoice.number, plain.number, f"SERIAL-{org.slug}-1", f"Geheimordner {name}"]


@pytest.mark.django_db
def test_a_contact_never_reaches_another_customers_or_organizations_rows(
    portal, portal_contact, org, other_org, run_on_commit
):
    secrets = books_of(org, run_on_commit, name="Nachbar GmbH")
    secrets += books_of(other_org, run_on_commit, name="Fremdfirma AG")
    # The contact's own company has no documents, folders or equipment, so no id of any
    # row may open a page: every pk of every tenant row of both organizations is tried.
    pks = sorted(tenant_pks(org, other_org))
    foreign_documents = set(
        Document.objects.filter(organization__in=[org, other_org]).values_list("pk", flat=True)
    )
    assert foreign_documents <= set(pks) and len(list(portal_patterns())) >= 7

    leaks, errors, walked = [], [], 0
    for _name, url in foreign_urls(pks):
        for method in ("get", "post"):
            response = getattr(portal, method)(url)
            walked += 1
            status = response.status_code
            if status >= 500:
                errors.append((method, url, status))
            elif status == 302:
                if "/portal/login/" not in response["Location"]:
                    leaks.append((method, url, status, response["Location"]))
            elif status not in (404, 405):
                leaks.append((method, url, status))
            if response.get("Content-Type", "").split(";")[0] in FILE_TYPES and status == 200:
                leaks.append((method, url, "file"))
    for _name, url in own_urls():
        response = portal.get(url)
        if response.status_code == 200 and not response.get("Content-Type", "").startswith("text/html"):
            continue
        page = response.content.decode(errors="replace") if response.status_code == 200 else ""
        shown = [secret for secret in secrets if secret in page]
        if shown:
            leaks.append(("get", url, shown))
    assert walked >= 30
    assert not errors, errors
    assert not leaks, leaks


@pytest.mark.django_db
def test_it_walks_the_file_downloads_too():
    names = {name for name, _route, _conv in portal_patterns()}
    assert {"portal:document", "portal:document_pdf", "portal:document_xml"} <= names
