"""Optional two-factor login with an authenticator app (TOTP, RFC 6238), for staff and
portal users alike.

A user turns it on for themselves: we make an unconfirmed TOTP device, show its secret
(QR code and text), and only a valid code from the app confirms it - a device nobody
has proven to own never guards a login, so a half-finished setup cannot lock anyone out.

The login then runs in two steps. The password step (`TwoFactorLoginMixin` on a Django
`LoginView`) authenticates as before - django-axes still counts wrong passwords - but a
user with a confirmed device is NOT logged in: only their id, the authentication backend
and where to go next are kept in the session, for `TWO_FACTOR_PENDING_SECONDS`. The code
step (`TwoFactorCodeView`) logs in only after a valid code. Wrong codes are refused with
django-otp's throttling (each one doubles the wait before the device answers again),
count as failed logins for axes (so guessing codes locks the account like guessing
passwords), and after `MAX_CODE_ATTEMPTS` the password step must be passed again.

Both sides use the same pieces: the back office in `config/urls.py`, the customer portal
through `portal/security_urls.py` and its login view.
"""

from __future__ import annotations

import time
from base64 import b32encode
from urllib.parse import quote, urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, user_login_failed
from django.contrib.auth import login as auth_login
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import audit_log

PENDING_KEY = "two_factor_pending"
# Wrong codes per password step; then the password is asked again.
MAX_CODE_ATTEMPTS = 5
DEVICE_NAME = "Authenticator"


# --- Reading the state -------------------------------------------------------------


def confirmed_device(user) -> TOTPDevice | None:
    """The device that guards this user's login, if they turned two-factor login on."""
    if user is None or not user.pk:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_two_factor(user) -> bool:
    return confirmed_device(user) is not None


def users_with_two_factor(user_ids) -> set[int]:
    """Which of these users log in with a code (one query for a whole list of members)."""
    return set(
        TOTPDevice.objects.filter(user_id__in=list(user_ids), confirmed=True).values_list(
            "user_id", flat=True
        )
    )


def setup_device(user) -> TOTPDevice | None:
    """The device waiting to be confirmed with a first code (setup in progress)."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def secret_text(device: TOTPDevice) -> str:
    """The secret in Base32, in groups of four, as authenticator apps ask for it when the
    QR code cannot be scanned."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(device: TOTPDevice, *, issuer: str) -> str:
    """The otpauth:// URI the QR code carries; the app lists the account as
    "issuer: user name", so a user with several organizations can tell them apart."""
    issuer = issuer.replace(":", "")
    label = f"{issuer}:{device.user.get_username()}" if issuer else device.user.get_username()
    params = {
        "secret": b32encode(device.bin_key).decode().rstrip("="),
        "algorithm": "SHA1",
        "digits": device.digits,
        "period": device.step,
    }
    if issuer:
        params["issuer"] = issuer
    return f"otpauth://totp/{quote(label)}?{urlencode(params, quote_via=quote)}"


def qr_svg(uri: str) -> SafeString:
    """The QR code as inline SVG: drawn on the server, nothing loaded from elsewhere."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, border=2, title=_("QR code for the authenticator app")
    )
    # segno writes the markup itself and escapes the title; the URI only becomes modules.
    return mark_safe(svg)  # noqa: S308


# --- Writes ------------------------------------------------------------------------


def two_factor_setup_start(*, user) -> TOTPDevice:
    """A fresh secret for the authenticator app. It counts only once confirmed; an older
    unfinished setup is dropped so that only the secret on screen can be confirmed."""
    if has_two_factor(user):
        raise ValidationError(_("Two-factor login is already on."), code="already_on")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def two_factor_confirm(
    *, user, code: str, organization, record: models.Model, action: str, target: models.Model | None = None
) -> TOTPDevice:
    """Turn two-factor login on: the code proves the app holds the secret shown.

    `record`/`target`/`action` file the audit entry where the user's side keeps its
    history (the organization for staff, the contact for portal users)."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-pk").first()
        )
        problem = "no_setup" if device is None else _verify(device, code)
        if problem is None:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            audit_log(
                organization=organization,
                user=user,
                action=action,
                obj=record,
                target=target,
                data={"user": user.get_username()},
            )
    # Refused outside the transaction: the failure counter a wrong code raised must stay.
    _refuse(problem)
    return device


def two_factor_disable(
    *,
    request,
    user,
    proof: str,
    organization,
    record: models.Model,
    action: str,
    target: models.Model | None = None,
) -> None:
    """Turn two-factor login off. Whoever sits at an open session must prove it is the
    user: a current code from the app, or the password (for a lost phone). The password
    goes through `authenticate`, so axes counts wrong ones here too."""
    proof = (proof or "").strip()
    if not proof:
        raise ValidationError(_("Enter a code from your app or your password."), code="required")
    device = confirmed_device(user)
    if device is None:
        raise ValidationError(_("Two-factor login is not on."), code="not_on")
    digits = proof.replace(" ", "")
    proven = False
    if digits.isdigit() and len(digits) == device.digits:
        proven = _code_check(user=user, code=digits)[1] is None
    if not proven:
        proven = authenticate(request, username=user.get_username(), password=proof) is not None
    if not proven:
        raise ValidationError(_("That is neither a valid code nor your password."), code="wrong")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        audit_log(
            organization=organization,
            user=user,
            action=action,
            obj=record,
            target=target,
            data={"user": user.get_username()},
        )


def two_factor_reset(*, user, actor, organization, record: models.Model, action: str) -> bool:
    """An administrator takes a colleague's two-factor login off (a lost phone): the next
    login asks only for the password. False when there was nothing to reset."""
    with transaction.atomic():
        deleted, _details = TOTPDevice.objects.filter(user=user).delete()
        if not deleted:
            return False
        audit_log(
            organization=organization,
            user=actor,
            action=action,
            obj=record,
            data={"user": user.get_username()},
        )
    return True


def _verify(device: TOTPDevice, code: str) -> str | None:
    """Check a code on a device (locked by the caller): None when valid, else why not.
    A throttled device is not even asked, so waiting is the only way on."""
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        return "throttled"
    return None if device.verify_token(code) else "wrong"


_MESSAGES = {
    "throttled": gettext_lazy("Too many wrong codes. Wait a few seconds, then enter the current code."),
    "wrong": gettext_lazy("The code is wrong or has expired."),
    "not_on": gettext_lazy("Two-factor login is not on."),
    "no_setup": gettext_lazy("Start the setup again: there is no code to confirm."),
}


def _refuse(problem: str | None) -> None:
    if problem is not None:
        raise ValidationError(_MESSAGES[problem], code=problem)


def _code_check(*, user, code: str) -> tuple[TOTPDevice | None, str | None]:
    # The row lock makes parallel guesses wait for each other's throttling.
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        problem = "not_on" if device is None else _verify(device, code)
    return device, problem


def code_verify(*, user, code: str) -> TOTPDevice:
    """The user's confirmed device if `code` is valid for it now; the refusal otherwise."""
    device, problem = _code_check(user=user, code=code)
    _refuse(problem)
    return device


# --- The login in two steps ----------------------------------------------------------


def _pending_seconds() -> int:
    return getattr(settings, "TWO_FACTOR_PENDING_SECONDS", 300)


def pending_start(request, *, user, next_url: str) -> None:
    """Remember who passed the password step - without logging them in."""
    # A new key for the half-logged-in state: nothing an attacker planted carries over.
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[-1]),
        "since": time.time(),
        "next": next_url,
        "attempts": 0,
    }


def pending_state(request) -> dict | None:
    """The password step's record, while it is fresh; a stale one is dropped."""
    state = request.session.get(PENDING_KEY)
    if not isinstance(state, dict):
        return None
    if time.time() - float(state.get("since", 0)) > _pending_seconds():
        pending_clear(request)
        return None
    return state


def pending_user(request):
    state = pending_state(request)
    if state is None:
        return None
    user = get_user_model()._default_manager.filter(pk=state.get("user"), is_active=True).first()
    if user is None:
        pending_clear(request)
    return user


def pending_clear(request) -> None:
    request.session.pop(PENDING_KEY, None)


class TwoFactorLoginMixin:
    """Put before a `LoginView`: a user with two-factor login on is sent to the code step
    (`two_factor_code_url`, a URL name) instead of being logged in."""

    two_factor_code_url = "login_code"

    def form_valid(self, form):
        user = form.get_user()
        if not has_two_factor(user):
            pending_clear(self.request)
            return super().form_valid(form)
        pending_start(self.request, user=user, next_url=self.get_success_url())
        return HttpResponseRedirect(reverse(self.two_factor_code_url))


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"),
        max_length=10,
        widget=forms.TextInput(
            attrs={
                "class": "form-control font-monospace",
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self):
        code = self.cleaned_data["code"].replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            raise ValidationError(_("Enter the six digits shown in your app."), code="format")
        return code


@method_decorator([sensitive_post_parameters("code"), never_cache], name="dispatch")
class TwoFactorCodeView(FormView):
    """The second login step. Set `template_name` and `login_url` (the URL name of the
    password step, where a missing, stale or exhausted first step goes back to)."""

    form_class = TwoFactorCodeForm
    template_name = "registration/login_code.html"
    login_url = "login"

    def dispatch(self, request, *args, **kwargs):
        self.pending = pending_user(request)
        if self.pending is None:
            messages.info(request, _("Please log in with your password first."))
            return redirect(self.login_url)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(login_url=reverse(self.login_url), **kwargs)

    def form_valid(self, form):
        request = self.request
        try:
            device = code_verify(user=self.pending, code=form.cleaned_data["code"])
        except ValidationError as exc:
            return self._refused(form, exc)
        state = pending_state(request) or {}
        pending_clear(request)
        auth_login(request, self.pending, backend=state.get("backend"))
        otp_login(request, device)
        return HttpResponseRedirect(state.get("next") or reverse(self.login_url))

    def _refused(self, form, exc: ValidationError):
        request = self.request
        if exc.code == "wrong":
            # A wrong code is a failed login: axes counts it with the wrong passwords.
            user_login_failed.send(
                sender=type(self), credentials={"username": self.pending.get_username()}, request=request
            )
            state = pending_state(request)
            if state is not None:
                state["attempts"] = int(state.get("attempts", 0)) + 1
                request.session[PENDING_KEY] = state
                if state["attempts"] >= MAX_CODE_ATTEMPTS or getattr(request, "axes_locked_out", False):
                    pending_clear(request)
                    messages.error(request, _("Too many wrong codes. Please log in again."))
                    return redirect(self.login_url)
        form.add_error("code", exc)
        return self.form_invalid(form)


def two_factor_state(user, *, issuer: str) -> dict:
    """What a security page shows: on or off, and a setup in progress with its QR code."""
    device = confirmed_device(user)
    setup = None if device is not None else setup_device(user)
    context = {"two_factor_on": device is not None, "device": device, "setup": setup}
    if setup is not None:
        uri = provisioning_uri(setup, issuer=issuer)
        context.update(setup_qr=qr_svg(uri), setup_secret=secret_text(setup), setup_uri=uri)
    return context


# --- The security page (staff and portal) --------------------------------------------


class TwoFactorDisableForm(forms.Form):
    proof = forms.CharField(
        label=gettext_lazy("Current code or password"),
        help_text=gettext_lazy("Lost your phone? Your password works too."),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )


def security_page(
    request,
    *,
    template: str,
    issuer: str,
    organization,
    record: models.Model,
    action_prefix: str,
    target: models.Model | None = None,
    context: dict | None = None,
):
    """The "Security" page of the signed-in user, shared by the back office and the
    portal: shows whether two-factor login is on and handles its POSTs (`action` =
    start, confirm, cancel or disable); every change redirects back to the page."""
    user = request.user
    confirm_form = TwoFactorCodeForm(prefix="confirm")
    disable_form = TwoFactorDisableForm(prefix="disable")
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "start":
                two_factor_setup_start(user=user)
                return redirect(request.path)
            if action == "cancel":
                TOTPDevice.objects.filter(user=user, confirmed=False).delete()
                return redirect(request.path)
            if action == "confirm":
                confirm_form = TwoFactorCodeForm(request.POST, prefix="confirm")
                if confirm_form.is_valid():
                    two_factor_confirm(
                        user=user,
                        code=confirm_form.cleaned_data["code"],
                        organization=organization,
                        record=record,
                        target=target,
                        action=f"{action_prefix}.two_factor_enabled",
                    )
                    messages.success(
                        request, _("Two-factor login is on. From now on, logging in asks for a code.")
                    )
                    return redirect(request.path)
            elif action == "disable":
                disable_form = TwoFactorDisableForm(request.POST, prefix="disable")
                if disable_form.is_valid():
                    two_factor_disable(
                        request=request,
                        user=user,
                        proof=disable_form.cleaned_data["proof"],
                        organization=organization,
                        record=record,
                        target=target,
                        action=f"{action_prefix}.two_factor_disabled",
                    )
                    messages.success(request, _("Two-factor login is off."))
                    return redirect(request.path)
            else:
                messages.error(request, _("Unknown action."))
                return redirect(request.path)
        except ValidationError as exc:
            form = disable_form if action == "disable" else confirm_form
            if action in ("confirm", "disable"):
                form.add_error("code" if action == "confirm" else "proof", exc)
            else:
                messages.error(request, " ".join(exc.messages))
                return redirect(request.path)
    page = {
        **two_factor_state(user, issuer=issuer),
        "confirm_form": confirm_form,
        "disable_form": disable_form,
        **(context or {}),
    }
    return render(request, template, page, status=200)
