"""The logo is an image by its bytes, and is served so that a browser never runs it."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from documents.pdf import _issuer
from tests.organizations.test_organization import _settings_data

pytestmark = pytest.mark.django_db

SETTINGS = "/organization/settings/"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def _image(image_format: str, size=(40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, image_format)
    return buffer.getvalue()


def _upload(org, client, name: str, content: bytes, content_type: str):
    logo = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(SETTINGS, {**_settings_data(org), "logo": logo})


def test_an_html_file_named_logo_png_is_refused(org, admin_client):
    response = _upload(org, admin_client, "logo.png", HTML, "image/png")
    assert response.status_code == 200
    assert "als PNG- oder JPEG-Bild" in " ".join(response.context["form"].errors["logo"])
    org.refresh_from_db()
    assert not org.logo


def test_an_svg_logo_is_refused(org, admin_client):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = _upload(org, admin_client, "logo.svg", svg, "image/svg+xml")
    assert response.status_code == 200
    assert "logo" in response.context["form"].errors
    org.refresh_from_db()
    assert not org.logo


def test_a_huge_image_is_refused(org, admin_client):
    response = _upload(org, admin_client, "logo.png", _image("PNG", size=(7000, 10)), "image/png")
    assert response.status_code == 200
    assert "höchstens 6000 Pixel" in " ".join(response.context["form"].errors["logo"])


def test_a_real_png_is_accepted_and_served_as_png(org, admin_client):
    png = _image("PNG")
    response = _upload(org, admin_client, "Firmenlogo final.PNG", png, "image/png")
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.logo.name.startswith("logos/") and org.logo.name.endswith(".png")
    served = admin_client.get("/organization/logo/")
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert b"".join(served.streaming_content) == png


def test_a_jpeg_declared_as_anything_is_stored_and_served_as_jpeg(org, admin_client):
    response = _upload(org, admin_client, "logo.html", _image("JPEG"), "text/html")
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.logo.name.endswith(".jpg")
    assert admin_client.get("/organization/logo/")["Content-Type"] == "image/jpeg"


def test_the_pdf_renderer_reads_the_uploaded_logo(org, admin_client):
    png = _image("PNG")
    _upload(org, admin_client, "logo.png", png, "image/png")
    org.refresh_from_db()
    issuer = _issuer({"legal_name": org.legal_name, "logo": org.logo.name})
    assert issuer.logo_bytes == png
    assert issuer.logo_mime == "image/png"


def test_a_stored_file_with_a_page_inside_is_never_served_as_a_page(org, admin_client):
    # Stored before uploads were checked: named like an image, or not like one at all.
    org.logo.save("old.png", ContentFile(HTML))
    served = admin_client.get("/organization/logo/")
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    org.logo.save("old.html", ContentFile(HTML))
    assert admin_client.get("/organization/logo/").status_code == 404


def test_outsiders_get_their_own_organizations_logo_only(org, other_org, outsider, client_for):
    org.logo.save("nordtek.png", ContentFile(_image("PNG")))
    assert client_for(outsider).get("/organization/logo/").status_code == 404
