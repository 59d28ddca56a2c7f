"""The file outbox: each e-mail an .eml file, read by admins on a page that exists only in
DEBUG, each organization seeing only its own mail."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django_scopes import scope

PDF = b"%PDF-1.7\n% a tiny stand-in for an invoice\n%%EOF\n"


@pytest.fixture
def outbox(settings, tmp_path):
    settings.EMAIL_BACKEND = "devtools.mail.OutboxEmailBackend"
    settings.EMAIL_OUTBOX_DIR = tmp_path / "outbox"
    return tmp_path / "outbox"


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def send(organization, subject="Rechnung RE-2026-000001", to=("kunde@example.com",), bcc=()):
    message = EmailMessage(
        subject=subject,
        body="Anbei unsere Rechnung.",
        from_email="backoffice@localhost",
        to=list(to),
        bcc=list(bcc),
    )
    message.attach("RE-2026-000001.pdf", PDF, "application/pdf")
    if organization is None:
        return message.send()
    with scope(organization=organization):
        return message.send()


def only_file(folder):
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 1, files
    return files[0]


def test_it_writes_each_message_as_an_eml_file_with_its_attachment(org, outbox):
    assert send(org, bcc=["archiv@example.com"]) == 1
    with only_file(outbox).open("rb") as handle:
        stored = BytesParser(policy=policy.default).parse(handle)
    assert stored["Subject"] == "Rechnung RE-2026-000001"
    assert stored["To"] == "kunde@example.com"
    assert stored["Bcc"] == "archiv@example.com"
    assert stored["X-Backoffice-Organization"] == str(org.pk)
    (attachment,) = stored.iter_attachments()
    assert attachment.get_filename() == "RE-2026-000001.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF
    assert not list(outbox.glob(".*")), "no half-written file stays behind"


def test_it_writes_one_file_per_message(org, outbox):
    send(org, subject="eins")
    send(org, subject="zwei")
    assert len(list(outbox.glob("*.eml"))) == 2


def test_it_is_the_default_backend_outside_the_tests():
    from config.settings import base

    assert base.EMAIL_BACKEND == "devtools.mail.OutboxEmailBackend"
    assert mail.get_connection(base.EMAIL_BACKEND).__class__.__name__ == "OutboxEmailBackend"


@pytest.mark.django_db
def test_it_lists_opens_and_serves_a_message_to_an_admin_in_debug(org, admin_user, client_for, outbox, debug):
    send(org)
    name = only_file(outbox).stem
    client = client_for(admin_user)

    listing = client.get("/dev/outbox/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "Rechnung RE-2026-000001" in page and "kunde@example.com" in page
    assert "RE-2026-000001.pdf" in page and f"/dev/outbox/{name}/attachments/0/" in page

    detail = client.get(f"/dev/outbox/{name}/")
    assert detail.status_code == 200
    assert "Anbei unsere Rechnung." in detail.content.decode()

    pdf = client.get(f"/dev/outbox/{name}/attachments/0/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert 'filename="RE-2026-000001.pdf"' in pdf["Content-Disposition"]
    assert pdf.content == PDF


@pytest.mark.django_db
def test_it_links_the_page_from_the_user_menu_of_admins_in_debug_only(
    org, admin_user, billing_user, client_for, outbox, settings
):
    settings.DEBUG = True
    assert "/dev/outbox/" in client_for(admin_user).get("/").content.decode()
    assert "/dev/outbox/" not in client_for(billing_user).get("/").content.decode()
    settings.DEBUG = False
    assert "/dev/outbox/" not in client_for(admin_user).get("/").content.decode()


@pytest.mark.django_db
def test_it_does_not_exist_when_debug_is_off(org, admin_user, client_for, outbox, settings):
    settings.DEBUG = False
    send(org)
    name = only_file(outbox).stem
    client = client_for(admin_user)
    for url in ("/dev/outbox/", f"/dev/outbox/{name}/", f"/dev/outbox/{name}/attachments/0/"):
        assert client.get(url).status_code == 404, url


@pytest.mark.django_db
def test_it_does_not_exist_for_staff_who_are_not_admins(
    org, billing_user, readonly_user, client_for, outbox, debug
):
    send(org)
    name = only_file(outbox).stem
    for user in (billing_user, readonly_user):
        client = client_for(user)
        for url in ("/dev/outbox/", f"/dev/outbox/{name}/", f"/dev/outbox/{name}/attachments/0/"):
            assert client.get(url).status_code == 404, (user.username, url)


@pytest.mark.django_db
def test_it_sends_visitors_to_the_login(client, outbox, debug):
    response = client.get("/dev/outbox/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_it_shows_an_admin_only_the_mail_of_their_organization(
    org, other_org, admin_user, outsider, client_for, outbox, debug
):
    send(org, subject="Rechnung an Nordtek-Kunden")
    name = only_file(outbox).stem
    send(other_org, subject="Rechnung an Südcom-Kunden")
    send(None, subject="Systemnachricht")

    own = client_for(admin_user).get("/dev/outbox/").content.decode()
    assert "Rechnung an Nordtek-Kunden" in own and "Systemnachricht" in own
    assert "Rechnung an Südcom-Kunden" not in own

    foreign = client_for(outsider)
    page = foreign.get("/dev/outbox/").content.decode()
    assert "Rechnung an Nordtek-Kunden" not in page and "Rechnung an Südcom-Kunden" in page
    assert foreign.get(f"/dev/outbox/{name}/").status_code == 404
    assert foreign.get(f"/dev/outbox/{name}/attachments/0/").status_code == 404


@pytest.mark.django_db
def test_it_answers_404_for_names_that_are_no_message_of_the_outbox(
    org, admin_user, client_for, outbox, debug
):
    send(org)
    name = only_file(outbox).stem
    (outbox.parent / "secret.eml").write_bytes(b"Subject: not in the outbox\r\n\r\nx")
    client = client_for(admin_user)
    for url in (
        "/dev/outbox/x/",
        "/dev/outbox/..%2Fsecret/",
        "/dev/outbox/20260101-000000-000000-00000000-0/",
        f"/dev/outbox/{name.rsplit('-', 1)[0]}-0/",  # the same file under another owner
        f"/dev/outbox/{name}/attachments/1/",
    ):
        assert client.get(url).status_code == 404, url


@pytest.mark.django_db
def test_it_changes_nothing_on_post(org, admin_user, client_for, outbox, debug):
    send(org)
    name = only_file(outbox).stem
    assert client_for(admin_user).post(f"/dev/outbox/{name}/").status_code == 405
    assert only_file(outbox).stem == name
