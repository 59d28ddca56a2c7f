from __future__ import annotations

import os

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import services, two_factor
from .access import require
from .forms import MemberAddForm, MembershipRoleForm, NumberFormatForm, OrganizationForm
from .history import readable_history
from .middleware import SESSION_KEY
from .models import Membership, Organization
from .numbering import DEFAULT_PATTERNS, KIND_LABELS, format_number, pattern_for, pattern_problems
from .view_kit import refusal_on

LOGO_CONTENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}


@login_required
@require_POST
def organization_switch(request):
    try:
        wanted = int(request.POST.get("organization", ""))
    except ValueError:
        return HttpResponseBadRequest(_("Unknown organization."))
    if not any(m.organization_id == wanted for m in request.memberships):
        raise Http404
    request.session[SESSION_KEY] = wanted
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    membership = next(m for m in request.memberships if m.organization_id == wanted)
    messages.success(request, _("Switched to %(org)s.") % {"org": membership.organization.name})
    return redirect(target)


@require("organization.manage")
def organization_settings(request):
    organization = request.organization
    if request.method == "POST":
        # Validate on a copy: a ModelForm writes into its instance while validating, and
        # the service must see the old values to record what changed.
        form = OrganizationForm(
            request.POST, request.FILES, instance=Organization.objects.get(pk=organization.pk)
        )
        if form.is_valid():
            with refusal_on(form):
                services.organization_update(
                    organization=organization, user=request.user, data=form.cleaned_data
                )
                messages.success(request, _("Organization settings saved."))
                return redirect("organizations:settings")
    else:
        form = OrganizationForm(instance=organization)
    return render(
        request,
        "organizations/settings.html",
        {
            "form": form,
            "history": readable_history(organization, models_by_action={"membership": Membership}),
        },
    )


@require("users.manage")
def member_list(request):
    members = list(Membership.objects.filter(organization=request.organization).select_related("user"))
    with_two_factor = two_factor.users_with_two_factor(m.user_id for m in members)
    for m in members:
        m.two_factor_on = m.user_id in with_two_factor
    return render(request, "organizations/members.html", {"members": members})


@require("users.manage")
def member_add(request):
    form = MemberAddForm(request.POST or None, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_on(form):
            membership = services.member_add(
                organization=request.organization,
                actor=request.user,
                username=data["username"],
                role=data["role"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                password=data["password"],
            )
            messages.success(
                request, _("%(user)s added to the organization.") % {"user": membership.user.username}
            )
            return redirect("organizations:members")
    return render(request, "organizations/member_form.html", {"form": form})


@require("users.manage")
def member_edit(request, pk: int):
    membership = get_object_or_404(Membership, pk=pk, organization=request.organization)
    form = MembershipRoleForm(request.POST or None, instance=membership)
    if request.method == "POST" and form.is_valid():
        if membership.user_id == request.user.id and form.cleaned_data["role"] != "admin":
            form.add_error("role", _("You cannot take the administrator role from yourself."))
        else:
            services.member_set_role(
                membership=membership, actor=request.user, role=form.cleaned_data["role"]
            )
            messages.success(request, _("Role of %(user)s changed.") % {"user": membership.user.username})
            return redirect("organizations:members")
    membership.refresh_from_db()
    return render(request, "organizations/member_form.html", {"form": form, "membership": membership})


@require("config.manage")
def number_formats(request):
    year = timezone.localdate().year
    rows = []
    for kind in DEFAULT_PATTERNS:
        pattern = pattern_for(organization=request.organization, kind=kind)
        # A pattern saved before the checks existed may be unusable (or render a huge
        # example); show why instead of an example.
        problems = pattern_problems(
            organization=request.organization, kind=kind, pattern=pattern, check_taken=False
        )
        rows.append(
            {
                "kind": kind,
                "label": KIND_LABELS[kind],
                "pattern": pattern,
                "problems": problems,
                "example": "" if problems else format_number(pattern, year=year, counter=42),
            }
        )
    return render(request, "organizations/number_formats.html", {"rows": rows})


@require("config.manage")
def number_format_edit(request, kind: str):
    if kind not in DEFAULT_PATTERNS:
        raise Http404
    initial = {"pattern": pattern_for(organization=request.organization, kind=kind)}
    form = NumberFormatForm(
        request.POST or None, initial=initial, organization=request.organization, kind=kind
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.number_format_set(
                organization=request.organization,
                actor=request.user,
                kind=kind,
                pattern=form.cleaned_data["pattern"],
            )
        except ValidationError as exc:
            form.add_error("pattern", exc.message_dict.get("pattern", exc.messages))
        else:
            messages.success(request, _("Number format for %(kind)s saved.") % {"kind": KIND_LABELS[kind]})
            return redirect("organizations:number_formats")
    return render(
        request, "organizations/number_format_form.html", {"form": form, "kind_label": KIND_LABELS[kind]}
    )


@require("view")
def organization_logo(request):
    """The active organization's logo. Media files are never served publicly (PDFs live
    there too), so even the logo goes through a view that knows the organization."""
    logo = request.organization.logo
    if not logo:
        raise Http404
    # Uploads are checked to be PNG or JPEG and stored under a matching extension; logos
    # stored before that (SVG, or anything named like an image) are served as what the
    # name says, never as a type the browser would guess - and never allowed to run
    # scripts or load anything, should the bytes be a page after all.
    content_type = LOGO_CONTENT_TYPES.get(os.path.splitext(logo.name)[1].lower())
    if content_type is None:
        raise Http404
    try:
        handle = logo.open("rb")
    except FileNotFoundError:
        raise Http404
    response = FileResponse(handle, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


class StaffLoginView(two_factor.TwoFactorLoginMixin, auth_views.LoginView):
    """The back office's login: the password, then a code for users with two-factor login."""

    redirect_authenticated_user = True
    two_factor_code_url = "login_code"


class StaffLoginCodeView(two_factor.TwoFactorCodeView):
    template_name = "registration/login_code.html"
    login_url = "login"


@login_required
def security(request):
    """The signed-in user's own two-factor login. Every member may use it, whatever the
    role: it changes nothing of the organization's data."""
    if request.organization is None:
        return render(request, "organizations/no_organization.html", status=403)
    return two_factor.security_page(
        request,
        template="organizations/security.html",
        issuer=request.organization.name,
        organization=request.organization,
        record=request.organization,
        action_prefix="membership",
    )


@require("users.manage")
@require_POST
def member_two_factor_reset(request, pk: int):
    membership = get_object_or_404(Membership, pk=pk, organization=request.organization)
    name = membership.user.get_full_name() or membership.user.username
    if two_factor.two_factor_reset(
        user=membership.user,
        actor=request.user,
        organization=request.organization,
        record=request.organization,
        action="membership.two_factor_reset",
    ):
        messages.success(
            request,
            _("Two-factor login of %(user)s reset: the next login asks only for the password.")
            % {"user": name},
        )
    else:
        messages.info(request, _("%(user)s has no two-factor login to reset.") % {"user": name})
    return redirect("organizations:members")
