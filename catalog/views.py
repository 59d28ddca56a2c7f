from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from organizations.access import can, require
from organizations.forms import add_service_errors
from organizations.history import readable_history
from organizations.tables import configure_table

from . import services
from .filters import ProductFilter
from .forms import EntitlementFormSet, ProductForm, ServicePackageForm, TaxRateForm
from .models import Entitlement, Product, ServicePackage, TaxRate
from .tables import ProductTable, ServicePackageTable

# --- products ------------------------------------------------------------------------


@require("view")
def product_list(request):
    qs = Product.objects.select_related("tax_rate", "service_package")
    flt = ProductFilter(request.GET or None, queryset=qs)
    table = configure_table(request, ProductTable(flt.qs, editable=can(request, "catalog.change")))
    return render(
        request,
        "catalog/product_list.html",
        {"filter": flt, "table": table, "total": Product.objects.count()},
    )


def _product_form(request, product: Product | None):
    form = ProductForm(request.POST or None, instance=product, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items()}
        try:
            if product is None:
                product = services.product_create(
                    organization=request.organization, user=request.user, data=data
                )
                messages.success(request, _("Product “%(name)s” created.") % {"name": product.name})
            else:
                # The bound form already wrote the posted values onto `product`.
                services.product_update(
                    product=Product.objects.get(pk=product.pk), user=request.user, data=data
                )
                messages.success(request, _("Product “%(name)s” saved.") % {"name": product.name})
            return redirect("catalog:products")
        except ValidationError as exc:
            add_service_errors(form, exc)
    if product is not None and product.pk:
        product.refresh_from_db()
    return render(
        request,
        "catalog/product_form.html",
        {"form": form, "product": product, "history": readable_history(product) if product else []},
    )


def _delete(request, *, name: str, delete, edit_url: str, list_url: str, done_message: str, pk: int):
    """Run a delete service; a refusal (record in use) goes back to the edit page with its reason."""
    try:
        delete()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(edit_url, pk=pk)
    messages.success(request, done_message % {"name": name})
    return redirect(list_url)


@require("view")
def product_detail(request, pk: int):
    """The product as everyone may read it; those who may change it get the edit page's button."""
    product = get_object_or_404(Product.objects.select_related("tax_rate", "service_package"), pk=pk)
    return render(
        request, "catalog/product_detail.html", {"product": product, "history": readable_history(product)}
    )


@require("catalog.change")
def product_create(request):
    return _product_form(request, None)


@require("catalog.change")
def product_edit(request, pk: int):
    return _product_form(request, get_object_or_404(Product, pk=pk))


@require("catalog.change")
@require_POST
def product_delete(request, pk: int):
    product = get_object_or_404(Product, pk=pk)
    return _delete(
        request,
        name=product.name,
        delete=lambda: services.product_delete(product=product, user=request.user),
        edit_url="catalog:product_edit",
        list_url="catalog:products",
        done_message=_("Product “%(name)s” deleted."),
        pk=pk,
    )


# --- service packages ----------------------------------------------------------------


@require("view")
def package_list(request):
    qs = ServicePackage.objects.prefetch_related(
        Prefetch("entitlements", queryset=Entitlement.objects.order_by("kind"))
    )
    table = configure_table(request, ServicePackageTable(qs, editable=can(request, "catalog.change")))
    return render(
        request, "catalog/package_list.html", {"table": table, "total": ServicePackage.objects.count()}
    )


def _package_form(request, package: ServicePackage | None):
    form = ServicePackageForm(request.POST or None, instance=package, organization=request.organization)
    formset = EntitlementFormSet(request.POST or None, instance=package or ServicePackage(), prefix="ent")
    if request.method == "POST":
        form_ok = form.is_valid()
        formset_ok = formset.is_valid()
        if form_ok and formset_ok:
            data = dict(form.cleaned_data)
            try:
                if package is None:
                    package = services.service_package_create(
                        organization=request.organization,
                        user=request.user,
                        data=data,
                        entitlements=formset.rows(),
                    )
                    messages.success(
                        request, _("Service package “%(name)s” created.") % {"name": package.name}
                    )
                else:
                    services.service_package_update(
                        package=ServicePackage.objects.get(pk=package.pk),
                        user=request.user,
                        data=data,
                        entitlements=formset.rows(),
                    )
                    messages.success(request, _("Service package “%(name)s” saved.") % {"name": package.name})
                return redirect("catalog:packages")
            except ValidationError as exc:
                add_service_errors(form, exc)
        elif formset_ok is False and form_ok:
            form.add_error(None, _("Please check the entitlements below."))
        if package is not None:
            package.refresh_from_db()
    return render(
        request,
        "catalog/package_form.html",
        {
            "form": form,
            "formset": formset,
            "package": package,
            "history": readable_history(package) if package else [],
        },
    )


@require("view")
def package_detail(request, pk: int):
    """The service package with its entitlements, read-only."""
    package = get_object_or_404(ServicePackage.objects.select_related("tax_rate"), pk=pk)
    return render(
        request,
        "catalog/package_detail.html",
        {
            "package": package,
            "entitlements": package.entitlements.order_by("kind"),
            "products": package.products.order_by("name"),
            "history": readable_history(package),
        },
    )


@require("catalog.change")
def package_create(request):
    return _package_form(request, None)


@require("catalog.change")
def package_edit(request, pk: int):
    return _package_form(request, get_object_or_404(ServicePackage, pk=pk))


@require("catalog.change")
@require_POST
def package_delete(request, pk: int):
    package = get_object_or_404(ServicePackage, pk=pk)
    return _delete(
        request,
        name=package.name,
        delete=lambda: services.service_package_delete(package=package, user=request.user),
        edit_url="catalog:package_edit",
        list_url="catalog:packages",
        done_message=_("Service package “%(name)s” deleted."),
        pk=pk,
    )


# --- tax rates -----------------------------------------------------------------------


@require("config.manage")
def tax_rate_list(request):
    return render(request, "catalog/tax_rate_list.html", {"rates": TaxRate.objects.all()})


def _tax_rate_form(request, tax_rate: TaxRate | None):
    form = TaxRateForm(request.POST or None, instance=tax_rate, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        try:
            if tax_rate is None:
                tax_rate = services.tax_rate_create(
                    organization=request.organization, user=request.user, data=dict(form.cleaned_data)
                )
                messages.success(request, _("Tax rate “%(name)s” created.") % {"name": tax_rate.name})
            else:
                services.tax_rate_update(
                    tax_rate=TaxRate.objects.get(pk=tax_rate.pk),
                    user=request.user,
                    data=dict(form.cleaned_data),
                )
                messages.success(request, _("Tax rate “%(name)s” saved.") % {"name": tax_rate.name})
            return redirect("catalog:tax_rates")
        except ValidationError as exc:
            add_service_errors(form, exc)
    if tax_rate is not None:
        tax_rate.refresh_from_db()
    return render(request, "catalog/tax_rate_form.html", {"form": form, "tax_rate": tax_rate})


@require("config.manage")
def tax_rate_create(request):
    return _tax_rate_form(request, None)


@require("config.manage")
def tax_rate_edit(request, pk: int):
    return _tax_rate_form(request, get_object_or_404(TaxRate, pk=pk))


@require("config.manage")
@require_POST
def tax_rate_delete(request, pk: int):
    tax_rate = get_object_or_404(TaxRate, pk=pk)
    return _delete(
        request,
        name=tax_rate.name,
        delete=lambda: services.tax_rate_delete(tax_rate=tax_rate, user=request.user),
        edit_url="catalog:tax_rate_edit",
        list_url="catalog:tax_rates",
        done_message=_("Tax rate “%(name)s” deleted."),
        pk=pk,
    )
