"""The customer portal's pages. Every page behind the login goes through `portal_view`
(the one door) and reads through `portal.selectors` with the contact's customer, so an
object of another customer or organization is a 404. Files are served by these views,
never by a media URL."""

from __future__ import annotations

import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from django_scopes import scopes_disabled

from documents import einvoice
from documents.pdf import pdf_filename, render_and_store
from organizations.view_kit import refusal_on

from . import selectors, services
from .access import account_of, portal_view
from .forms import BillingDataForm, PortalLoginForm, PortalPasswordResetForm
from .security import PortalTwoFactorLoginMixin
from .tokens import invitation_token


class PortalLoginView(PortalTwoFactorLoginMixin, auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = PortalLoginForm
    redirect_authenticated_user = False

    def get_default_redirect_url(self):
        return str(reverse_lazy("portal:home"))


class PortalLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("portal:login")


def _today():
    return timezone.localdate()


@portal_view
@require_safe
def home(request):
    customer = request.portal_customer
    today = _today()
    rows = selectors.document_rows(selectors.portal_documents(customer)[:5], today=today)
    return render(
        request,
        "portal/home.html",
        {
            "contact": request.portal_contact,
            "rows": rows,
            "open_total": selectors.open_total(customer, today=today),
            "folder_count": selectors.portal_folders(customer).count(),
            "nav": "home",
        },
    )


@portal_view
@require_safe
def documents(request):
    customer = request.portal_customer
    today = _today()
    rows = selectors.document_rows(selectors.portal_documents(customer), today=today)
    return render(
        request,
        "portal/documents.html",
        {"rows": rows, "open_total": selectors.open_total(customer, today=today), "nav": "documents"},
    )


@portal_view
@require_safe
def document(request, pk: int):
    doc = selectors.portal_document(request.portal_customer, pk)
    row = selectors.document_rows([doc], today=_today())[0]
    return render(
        request,
        "portal/document.html",
        {
            "row": row,
            "document": doc,
            "lines": list(doc.lines.order_by("position", "id")),
            "nav": "documents",
        },
    )


def _private(response):
    response["Cache-Control"] = "private, no-store"
    return response


@portal_view
@require_safe
def document_pdf(request, pk: int):
    """The stored PDF (the record sent), as a download."""
    doc = selectors.portal_document(request.portal_customer, pk)
    if not doc.pdf:
        # An issued document whose PDF the worker has not rendered yet (a billing run's
        # invoices): render it now, as the back office does; the PDF is written once.
        doc = render_and_store(doc)
    if not doc.pdf:
        raise Http404(_("The PDF is being prepared."))
    try:
        handle = doc.pdf.open("rb")
    except FileNotFoundError:
        raise Http404(_("The PDF file is missing.")) from None
    return _private(
        FileResponse(handle, content_type="application/pdf", as_attachment=True, filename=pdf_filename(doc))
    )


@portal_view
@require_safe
def document_xml(request, pk: int):
    """The EN 16931 e-invoice XML: the payer's XRechnung syntax, else the CII that the
    ZUGFeRD PDF carries."""
    doc = selectors.portal_document(request.portal_customer, pk)
    syntax, profile = einvoice.FORMATS.get(einvoice.einvoice_format(doc), ("cii", "en16931"))
    try:
        content = einvoice.invoice_xml(doc, syntax, profile)
    except Exception:  # a document the checks refuse today: no file rather than an error page
        raise Http404(_("The e-invoice of this document is not available.")) from None
    name = pdf_filename(doc).removesuffix(".pdf") + ".xml"
    return _private(
        FileResponse(io.BytesIO(content), content_type="application/xml", as_attachment=True, filename=name)
    )


@portal_view
@require_safe
def services_page(request):
    today = _today()
    folders = [
        selectors.folder_services(folder, today=today)
        for folder in selectors.portal_folders(request.portal_customer)
    ]
    return render(request, "portal/services.html", {"folders": folders, "nav": "services"})


@portal_view
@require_http_methods(["GET", "POST"])
def profile(request):
    account = request.portal_account
    customer = request.portal_customer
    initial = {
        "invoice_email": customer.invoice_email,
        "account_holder": customer.account_holder,
        "iban": customer.iban,
        "bic": customer.bic,
    }
    form = None
    if account.may_change_billing_data:
        form = BillingDataForm(request.POST if request.method == "POST" else None, initial=initial)
        if request.method == "POST" and form.is_valid():
            with refusal_on(form):
                services.portal_billing_change(account=account, data=form.cleaned_data)
                messages.success(request, _("Your changes were saved and our team has been informed."))
                return redirect("portal:profile")
    elif request.method == "POST":
        messages.error(request, _("You may not change the billing data of your company."))
        return redirect("portal:profile")
    return render(
        request,
        "portal/profile.html",
        {
            "account": account,
            "contact": request.portal_contact,
            "customer": customer,
            "form": form,
            "nav": "profile",
        },
    )


# --- setting a password: the invitation and the reset ------------------------------------


class _SetPasswordMixin:
    """After the password is set the account counts as activated and the contact is logged
    in to the portal (Django's validators ran in SetPasswordForm)."""

    template_name = "portal/set_password.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("portal:home")

    def get_user(self, uidb64):
        with scopes_disabled():
            user = super().get_user(uidb64)
            if user is None:
                return None
            account = account_of(user)
            # Only portal accounts whose contact may use the portal set a password here.
            return user if account is not None and account.is_open else None

    def form_valid(self, form):
        response = super().form_valid(form)
        with scopes_disabled():
            account = account_of(form.user)
        if account is not None:
            services.portal_account_activate(account=account)
        messages.success(self.request, _("Your password is set. Welcome to the customer portal."))
        return response


class InvitationView(_SetPasswordMixin, auth_views.PasswordResetConfirmView):
    token_generator = invitation_token
    reset_url_token = "set-password"
    extra_context = {"invitation": True}


class PortalPasswordResetConfirmView(_SetPasswordMixin, auth_views.PasswordResetConfirmView):
    extra_context = {"invitation": False}


class PortalPasswordResetView(auth_views.PasswordResetView):
    template_name = "portal/password_reset.html"
    form_class = PortalPasswordResetForm
    email_template_name = "portal/password_reset_email.txt"
    subject_template_name = "portal/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password_reset_done")

    def form_valid(self, form):
        # The link in the mail points at the portal's public address, not the request's host.
        self.extra_email_context = {"site_url": settings.SITE_URL.rstrip("/")}
        return super().form_valid(form)


class PortalPasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"
