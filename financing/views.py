from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from folders.models import Folder
from organizations.access import require
from organizations.view_kit import refusal_as_message, refusal_on

from . import services
from .forms import FinancingForm
from .models import Financing
from .payer import rejected_note


def _folder(pk: int) -> Folder:
    return get_object_or_404(Folder.objects.select_related("customer"), pk=pk)


@require("financing.change")
def financing_edit(request, pk: int):
    """The folder's financing section: add or change the financier and lease terms."""
    folder = _folder(pk)
    financing = Financing.objects.filter(folder=folder).select_related("financier").first()
    form = FinancingForm(
        request.POST or None, instance=financing, organization=request.organization, folder=folder
    )
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            saved = services.financing_set(folder=folder, user=request.user, data=form.cleaned_data)
            messages.success(
                request,
                rejected_note(folder)
                or _(
                    "Folder %(number)s is financed by %(financier)s; its one-off lines are invoiced to the financier."
                )
                % {"number": folder.number, "financier": saved.financier.name},
            )
            return redirect(reverse("folders:detail", kwargs={"pk": folder.pk}) + "#financing")
    return render(
        request,
        "financing/form.html",
        {"form": form, "folder": folder, "customer": folder.customer, "financing": financing},
    )


@require("financing.change")
@require_POST
def financing_remove(request, pk: int):
    folder = _folder(pk)
    with refusal_as_message(request):
        services.financing_remove(folder=folder, user=request.user)
        messages.success(
            request,
            _("Financing removed from folder %(number)s; %(customer)s pays all its lines.")
            % {"number": folder.number, "customer": folder.customer.name},
        )
    return redirect(reverse("folders:detail", kwargs={"pk": folder.pk}) + "#financing")
