"""The portal's two-factor pages, included into the portal's namespace by portal/urls.py:
`path("", include("portal.security_urls"))`."""

from django.urls import path

from . import security

urlpatterns = [
    path("security/", security.security, name="security"),
    path("login/code/", security.PortalLoginCodeView.as_view(), name="login_code"),
]
