from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from organizations.access import can, require
from organizations.history import readable_history
from organizations.tables import configure_table
from organizations.view_kit import record_save, refusal_as_message

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


@require("catalog.change")
def product_form(request, pk: int | None = None):
    """A new product (no pk) or an existing one, created or saved through the services."""
    product = get_object_or_404(Product, pk=pk) if pk is not None else None
    form = ProductForm(request.POST or None, instance=product, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if record_save(
            request,
            form,
            product,
            create=lambda: services.product_create(
                organization=request.organization, user=request.user, data=data
            ),
            update=lambda fresh: services.product_update(product=fresh, user=request.user, data=data),
            created=_("Product “%(name)s” created."),
            saved=_("Product “%(name)s” saved."),
        ):
            return redirect("catalog:products")
    if product is not None and product.pk:
        product.refresh_from_db()
    return render(
        request,
        "catalog/product_form.html",
        {"form": form, "product": product, "history": readable_history(product) if product else []},
    )


def _delete(request, record, delete, *, edit_url: str, list_url: str, done_message: str):
    """Run a delete service; a refusal (record in use) goes back to the edit page with its reason."""
    with refusal_as_message(request):
        delete()
        messages.success(request, done_message % {"name": record.name})
        return redirect(list_url)
    return redirect(edit_url, pk=record.pk)


@require("view")
def product_detail(request, pk: int):
    """The product as everyone may read it; those who may change it get the edit page's button."""
    product = get_object_or_404(Product.objects.select_related("tax_rate", "service_package"), pk=pk)
    return render(
        request, "catalog/product_detail.html", {"product": product, "history": readable_history(product)}
    )


@require("catalog.change")
@require_POST
def product_delete(request, pk: int):
    product = get_object_or_404(Product, pk=pk)
    return _delete(
        request,
        product,
        lambda: services.product_delete(product=product, user=request.user),
        edit_url="catalog:product_edit",
        list_url="catalog:products",
        done_message=_("Product “%(name)s” deleted."),
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


@require("catalog.change")
def package_form(request, pk: int | None = None):
    """A new service package (no pk) or an existing one, with its entitlements."""
    package = get_object_or_404(ServicePackage, pk=pk) if pk is not None else None
    form = ServicePackageForm(request.POST or None, instance=package, organization=request.organization)
    formset = EntitlementFormSet(request.POST or None, instance=package or ServicePackage(), prefix="ent")
    if request.method == "POST":
        form_ok = form.is_valid()
        formset_ok = formset.is_valid()
        if form_ok and formset_ok:
            data, rows = dict(form.cleaned_data), formset.rows()
            if record_save(
                request,
                form,
                package,
                create=lambda: services.service_package_create(
                    organization=request.organization, user=request.user, data=data, entitlements=rows
                ),
                update=lambda fresh: services.service_package_update(
                    package=fresh, user=request.user, data=data, entitlements=rows
                ),
                created=_("Service package “%(name)s” created."),
                saved=_("Service package “%(name)s” saved."),
            ):
                return redirect("catalog:packages")
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
@require_POST
def package_delete(request, pk: int):
    package = get_object_or_404(ServicePackage, pk=pk)
    return _delete(
        request,
        package,
        lambda: services.service_package_delete(package=package, user=request.user),
        edit_url="catalog:package_edit",
        list_url="catalog:packages",
        done_message=_("Service package “%(name)s” deleted."),
    )


# --- tax rates -----------------------------------------------------------------------


@require("config.manage")
def tax_rate_list(request):
    return render(request, "catalog/tax_rate_list.html", {"rates": TaxRate.objects.all()})


@require("config.manage")
def tax_rate_form(request, pk: int | None = None):
    """A new tax rate (no pk) or an existing one."""
    tax_rate = get_object_or_404(TaxRate, pk=pk) if pk is not None else None
    form = TaxRateForm(request.POST or None, instance=tax_rate, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if record_save(
            request,
            form,
            tax_rate,
            create=lambda: services.tax_rate_create(
                organization=request.organization, user=request.user, data=data
            ),
            update=lambda fresh: services.tax_rate_update(tax_rate=fresh, user=request.user, data=data),
            created=_("Tax rate “%(name)s” created."),
            saved=_("Tax rate “%(name)s” saved."),
        ):
            return redirect("catalog:tax_rates")
    if tax_rate is not None:
        tax_rate.refresh_from_db()
    return render(request, "catalog/tax_rate_form.html", {"form": form, "tax_rate": tax_rate})


@require("config.manage")
@require_POST
def tax_rate_delete(request, pk: int):
    tax_rate = get_object_or_404(TaxRate, pk=pk)
    return _delete(
        request,
        tax_rate,
        lambda: services.tax_rate_delete(tax_rate=tax_rate, user=request.user),
        edit_url="catalog:tax_rate_edit",
        list_url="catalog:tax_rates",
        done_message=_("Tax rate “%(name)s” deleted."),
    )
