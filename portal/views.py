from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.urls import reverse_lazy

from .access import portal_view
from .forms import PortalLoginForm
from .security import PortalTwoFactorLoginMixin


class PortalLoginView(PortalTwoFactorLoginMixin, auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = PortalLoginForm
    redirect_authenticated_user = False

    def get_default_redirect_url(self):
        return str(reverse_lazy("portal:home"))


class PortalLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("portal:login")


@portal_view
def home(request):
    return render(request, "portal/home.html", {"contact": request.portal_contact})
