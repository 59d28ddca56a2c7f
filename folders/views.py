from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog.models import Product, Scope, ServicePackage
from customers.models import Customer
from organizations.access import can, require
from organizations.panels import page_panels
from organizations.tables import configure_table
from organizations.view_kit import record_save, refusal_as_message, refusal_on, stored

from . import equipment, lines, selectors, services, standard_installations
from .filters import FolderFilter
from .forms import (
    EquipmentFormSet,
    FolderCancelForm,
    FolderForm,
    FolderFromTemplateForm,
    FolderSuspendForm,
    FolderTemplateForm,
    FolderTemplateItemFormSet,
    FolderTerminateForm,
    OneOffLineForm,
    RecurringChangeForm,
    RecurringLineForm,
    SerialPasteForm,
)
from .models import Equipment, Folder, FolderTemplate, OneOffLine, RecurringLine
from .prefill import merge_prefill, oneoff_line_prefill, package_line_prefill, recurring_line_prefill
from .tables import FolderTable


def _get_folder(pk: int) -> Folder:
    """The folder of the active organization (scoped manager): others are a 404."""
    return get_object_or_404(
        Folder.objects.select_related("customer", "financing__financier", "delivery_site"), pk=pk
    )


def _folder_page(request, template: str, folder: Folder, **context):
    """A page about one folder: it names the folder and its customer (header, breadcrumbs)."""
    return render(request, template, {"folder": folder, "customer": folder.customer, **context})


def _detail(folder: Folder, anchor: str = "") -> str:
    url = reverse("folders:detail", kwargs={"pk": folder.pk})
    return f"{url}#{anchor}" if anchor else url


# --- list, detail --------------------------------------------------------------------


@require("view")
def folder_list(request):
    folders = selectors.folder_list()
    flt = FolderFilter(request.GET or None, queryset=folders, request=request)
    table = configure_table(request, FolderTable(flt.qs, rows=folders))
    customer = None
    customer_id = flt.form.cleaned_data.get("customer") if flt.is_bound and flt.form.is_valid() else None
    if customer_id:
        customer = Customer.objects.filter(pk=customer_id).first()
    return render(
        request,
        "folders/list.html",
        {"filter": flt, "table": table, "filter_customer": customer, "filtered": bool(request.GET)},
    )


@require("view")
def folder_detail(request, pk: int):
    try:
        folder = selectors.folder_detail(pk)
    except Folder.DoesNotExist:
        raise Http404
    today = timezone.localdate()
    oneoff_lines = list(folder.oneoff_lines.all())
    recurring_lines = list(folder.recurring_lines.all())
    for line in oneoff_lines:
        line.folder = folder
    for line in recurring_lines:
        line.folder = folder
        line.versions = list(line.changes.all())
        line.has_future_version = any(v.effective_from > today for v in line.versions)
    context = {
        "folder": folder,
        "customer": folder.customer,
        "oneoff_lines": oneoff_lines,
        "recurring_lines": recurring_lines,
        "totals": selectors.folder_totals(folder),
        "term_end": folder.term_end_on(today),
        "notice_deadline": folder.notice_deadline_on(today),
        "history": selectors.folder_history(folder),
        "today": today,
        "can_edit": can(request, "folders.change"),
        "can_equipment": can(request, "equipment.change"),
        # The sections of the apps built on folders (financing, documents).
        "panels": page_panels("folder.detail", request, folder),
    }
    return render(request, "folders/detail.html", context)


# --- create / edit -------------------------------------------------------------------


@require("folders.change")
def folder_create(request, customer_pk: int):
    customer = get_object_or_404(Customer, pk=customer_pk)
    form = FolderForm(
        request.POST or None,
        organization=request.organization,
        customer=customer,
        initial={"start_date": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            folder = services.folder_create(
                organization=request.organization,
                customer=customer,
                user=request.user,
                data=form.cleaned_data,
            )
            messages.success(
                request,
                _("Folder %(number)s “%(name)s” created for %(customer)s.")
                % {"number": folder.number, "name": folder.name, "customer": customer.name},
            )
            return redirect(_detail(folder))
    return render(
        request,
        "folders/form.html",
        {
            "form": form,
            "customer": customer,
            "folder": None,
            "templates_form": FolderFromTemplateForm(organization=request.organization),
        },
    )


@require("folders.change")
def folder_create_from_template(request, customer_pk: int):
    customer = get_object_or_404(Customer, pk=customer_pk)
    form = FolderFromTemplateForm(
        request.POST or None, organization=request.organization, initial={"start_date": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        data = {"start_date": form.cleaned_data.get("start_date")}
        if form.cleaned_data.get("name"):
            data["name"] = form.cleaned_data["name"]
        with refusal_on(form):
            folder = services.folder_create_from_template(
                organization=request.organization,
                customer=customer,
                template=form.cleaned_data["template"],
                user=request.user,
                data=data,
            )
            messages.success(
                request,
                _("Folder %(number)s created for %(customer)s from “%(template)s”.")
                % {
                    "number": folder.number,
                    "customer": customer.name,
                    "template": form.cleaned_data["template"].name,
                },
            )
            return redirect(_detail(folder))
    return render(request, "folders/from_template.html", {"form": form, "customer": customer})


@require("folders.change")
def folder_edit(request, pk: int):
    folder = _get_folder(pk)
    form = FolderForm(request.POST or None, instance=folder, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            services.folder_update(folder=stored(folder), user=request.user, data=form.cleaned_data)
            messages.success(request, _("Folder %(number)s saved.") % {"number": folder.number})
            return redirect(_detail(folder))
        folder = _get_folder(pk)
    elif request.method == "POST":
        folder = _get_folder(pk)
    return _folder_page(request, "folders/form.html", folder, form=form)


# --- status --------------------------------------------------------------------------


def _status_action(request, folder: Folder, call, success: str):
    with refusal_as_message(request):
        call()
        messages.success(request, success)
    return redirect(_detail(folder))


@require("folders.change")
@require_POST
def folder_activate(request, pk: int):
    folder = _get_folder(pk)
    was_prospect = folder.customer.is_prospect
    message = _("Folder %(number)s activated.") % {"number": folder.number}
    if was_prospect:
        message = _("Folder %(number)s activated; %(customer)s is now a customer.") % {
            "number": folder.number,
            "customer": folder.customer.name,
        }
    return _status_action(
        request, folder, lambda: services.folder_activate(folder=folder, user=request.user), message
    )


def _status_form(request, pk: int, form_class, call, success):
    """A status change that asks for one detail first (a reason, an end date)."""
    folder = _get_folder(pk)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            call(folder, form.cleaned_data)
            messages.success(request, success(folder))
            return redirect(_detail(folder))
    return _folder_page(request, "folders/status_form.html", folder, form=form)


@require("folders.change")
def folder_suspend(request, pk: int):
    return _status_form(
        request,
        pk,
        FolderSuspendForm,
        lambda folder, data: services.folder_suspend(folder=folder, user=request.user, reason=data["reason"]),
        lambda folder: _("Folder %(number)s suspended.") % {"number": folder.number},
    )


@require("folders.change")
def folder_terminate(request, pk: int):
    return _status_form(
        request,
        pk,
        FolderTerminateForm,
        lambda folder, data: services.folder_terminate(
            folder=folder, user=request.user, end_date=data["end_date"]
        ),
        lambda folder: _("Folder %(number)s terminated.") % {"number": folder.number},
    )


@require("folders.change")
def folder_cancel(request, pk: int):
    def success(folder):
        folder.refresh_from_db()
        return _("Cancellation of folder %(number)s recorded; it ends on %(date)s.") % {
            "number": folder.number,
            "date": date_format(folder.end_date, "SHORT_DATE_FORMAT"),
        }

    return _status_form(
        request,
        pk,
        FolderCancelForm,
        lambda folder, data: services.folder_cancel(
            folder=folder, user=request.user, notice_received_on=data["notice_received_on"]
        ),
        success,
    )


@require("folders.change")
@require_POST
def folder_cancellation_withdraw(request, pk: int):
    folder = _get_folder(pk)
    return _status_action(
        request,
        folder,
        lambda: services.folder_cancellation_withdraw(folder=folder, user=request.user),
        _("Cancellation of folder %(number)s withdrawn.") % {"number": folder.number},
    )


# --- one-off lines -------------------------------------------------------------------


def _prefilled_initial(request, base: dict, prefill) -> dict:
    """Initial values for a line form re-rendered after choosing a product (GET with
    ?product=): the product's values, keeping a quantity the user already typed."""
    current = {k: v for k, v in request.GET.items() if k not in ("csrfmiddlewaretoken",)}
    try:
        product = Product.objects.select_related("service_package").get(
            pk=int(request.GET.get("product", ""))
        )
    except (Product.DoesNotExist, ValueError, TypeError):
        return {**base, **current}
    return merge_prefill({**base, **current}, prefill(product))


def _htmx_prefill(form, url: str) -> None:
    """Choosing a product (or package) re-renders the form pre-filled, without a reload."""
    for name in ("product", "service_package"):
        if name in form.fields:
            form.fields[name].widget.attrs.update(
                {"hx-get": url, "hx-include": "#line-form", "hx-target": "#line-form", "hx-swap": "outerHTML"}
            )


def _line_form_page(request, form, folder: Folder, kind: str, line=None, **context):
    """The one-off or recurring line form; a new line's form re-renders itself when a product
    is chosen, and answers htmx with the form alone."""
    template = "folders/line_form.html"
    if line is None:
        _htmx_prefill(form, request.path)
        if request.htmx and request.method == "GET":
            template = "folders/_line_form.html"
    return _folder_page(request, template, folder, form=form, kind=kind, line=line, **context)


@require("folders.change")
def oneoff_add(request, pk: int):
    folder = _get_folder(pk)
    if request.method == "POST":
        form = OneOffLineForm(request.POST, organization=request.organization)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "add_service_package"}
            with refusal_on(form):
                line = lines.oneoff_line_add(
                    folder=folder,
                    user=request.user,
                    data=data,
                    add_service_package=bool(form.cleaned_data.get("add_service_package")),
                )
                text = _("Line “%(line)s” added to folder %(number)s.") % {
                    "line": line,
                    "number": folder.number,
                }
                if form.cleaned_data.get("add_service_package") and form.offered_package:
                    text += " " + _("Maintenance package “%(name)s” added as a recurring line.") % {
                        "name": form.offered_package.name
                    }
                messages.success(request, text)
                return redirect(_detail(folder, f"oneoff-{line.pk}"))
    else:
        initial = _prefilled_initial(request, {"quantity": 1}, oneoff_line_prefill)
        form = OneOffLineForm(initial=initial, organization=request.organization)
    return _line_form_page(request, form, folder, "oneoff")


def _get_oneoff(pk: int, line_pk: int) -> OneOffLine:
    return get_object_or_404(
        OneOffLine.objects.select_related("folder__customer", "product"), pk=line_pk, folder_id=pk
    )


@require("folders.change")
def oneoff_edit(request, pk: int, line_pk: int):
    line = _get_oneoff(pk, line_pk)
    folder = line.folder
    form = OneOffLineForm(request.POST or None, instance=line, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            lines.oneoff_line_update(line=stored(line), user=request.user, data=form.cleaned_data)
            messages.success(
                request,
                _("Line “%(line)s” saved.") % {"line": form.cleaned_data["description"].splitlines()[0]},
            )
            return redirect(_detail(folder, f"oneoff-{line.pk}"))
    return _line_form_page(request, form, folder, "oneoff", stored(line))


def _line_delete(request, line, delete, done: str, section: str):
    """Delete a line through its service and go back to its section of the folder page."""
    label = str(line)
    with refusal_as_message(request):
        delete(line=line, user=request.user)
        messages.success(request, done % {"line": label})
    return redirect(_detail(line.folder, section))


@require("folders.change")
@require_POST
def oneoff_delete(request, pk: int, line_pk: int):
    return _line_delete(
        request, _get_oneoff(pk, line_pk), lines.oneoff_line_delete, _("Line “%(line)s” deleted."), "oneoff"
    )


# --- recurring lines -----------------------------------------------------------------


def _recurring_prefill(request, folder: Folder) -> dict:
    base = {"quantity": 1, "start_date": folder.start_date or timezone.localdate()}
    try:
        package = ServicePackage.objects.get(pk=int(request.GET.get("service_package", "")))
    except (ServicePackage.DoesNotExist, ValueError, TypeError):
        package = None
    trigger = request.headers.get("HX-Trigger-Name")
    if package is not None and (trigger == "service_package" or not request.GET.get("product")):
        per_device = package.entitlements.filter(scope=Scope.PER_DEVICE).exists()
        pieces = sum(line.pieces for line in folder.oneoff_lines.all()) or 1
        current = {k: v for k, v in request.GET.items() if k not in ("csrfmiddlewaretoken", "product")}
        return merge_prefill(
            {**base, **current}, package_line_prefill(package, pieces=pieces, per_device=per_device)
        )
    return _prefilled_initial(request, base, recurring_line_prefill)


@require("folders.change")
def recurring_add(request, pk: int):
    folder = _get_folder(pk)
    if request.method == "POST":
        form = RecurringLineForm(request.POST, organization=request.organization)
        if form.is_valid():
            with refusal_on(form):
                line = lines.recurring_line_add(folder=folder, user=request.user, data=form.cleaned_data)
                messages.success(
                    request,
                    _("Recurring line “%(line)s” added to folder %(number)s.")
                    % {"line": line, "number": folder.number},
                )
                return redirect(_detail(folder, f"recurring-{line.pk}"))
    else:
        form = RecurringLineForm(
            initial=_recurring_prefill(request, folder), organization=request.organization
        )
    return _line_form_page(request, form, folder, "recurring")


def _get_recurring(pk: int, line_pk: int) -> RecurringLine:
    return get_object_or_404(
        RecurringLine.objects.select_related("folder__customer", "product", "service_package"),
        pk=line_pk,
        folder_id=pk,
    )


@require("folders.change")
def recurring_edit(request, pk: int, line_pk: int):
    line = _get_recurring(pk, line_pk)
    folder = line.folder
    form = RecurringLineForm(
        request.POST or None,
        instance=line,
        organization=request.organization,
        initial={"effective_from": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "effective_from"}
        with refusal_on(form):
            lines.recurring_line_update(
                line=stored(line),
                user=request.user,
                data=data,
                effective_from=form.cleaned_data.get("effective_from"),
            )
            messages.success(
                request, _("Recurring line “%(line)s” saved.") % {"line": data["description"].splitlines()[0]}
            )
            return redirect(_detail(folder, f"recurring-{line.pk}"))
    fresh = stored(line)
    return _line_form_page(
        request,
        form,
        folder,
        "recurring",
        fresh,
        versions=list(fresh.changes.select_related("created_by")),
        segments=selectors.recurring_line_segments(fresh),
    )


@require("folders.change")
@require_POST
def recurring_delete(request, pk: int, line_pk: int):
    return _line_delete(
        request,
        _get_recurring(pk, line_pk),
        lines.recurring_line_delete,
        _("Recurring line “%(line)s” deleted."),
        "recurring",
    )


@require("folders.change")
def recurring_change(request, pk: int, line_pk: int):
    """A new quantity/price version from a date (e.g. two more SIP trunks from the 15th)."""
    line = _get_recurring(pk, line_pk)
    folder = line.folder
    form = RecurringChangeForm(
        request.POST or None,
        initial={
            "effective_from": timezone.localdate(),
            "quantity": line.quantity,
            "unit_price": line.unit_price,
        },
    )
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            lines.recurring_line_change(line=line, user=request.user, **form.cleaned_data)
            messages.success(
                request,
                _("New quantity/price for “%(line)s” from %(date)s recorded.")
                % {
                    "line": line,
                    "date": date_format(form.cleaned_data["effective_from"], "SHORT_DATE_FORMAT"),
                },
            )
            return redirect(_detail(folder, f"recurring-{line.pk}"))
    return _folder_page(
        request,
        "folders/recurring_change.html",
        folder,
        form=form,
        line=line,
        segments=selectors.recurring_line_segments(line),
    )


# --- equipment -----------------------------------------------------------------------


@require("equipment.change")
def equipment_edit(request, pk: int, line_pk: int):
    line = _get_oneoff(pk, line_pk)
    folder = line.folder
    if not line.is_equipment:
        messages.info(request, _("This line is not marked as equipment."))
        return redirect(_detail(folder, f"oneoff-{line.pk}"))
    queryset = Equipment.objects.filter(line=line).order_by("piece")
    may_record_delivery = can(request, "equipment.deliver")
    formset = EquipmentFormSet(
        request.POST or None,
        queryset=queryset,
        prefix="eq",
        form_kwargs={"may_record_delivery": may_record_delivery},
    )
    paste = SerialPasteForm(request.POST or None, prefix="paste")
    warning = None
    if request.method == "POST" and formset.is_valid() and paste.is_valid():
        confirm = paste.cleaned_data.get("confirm_duplicates", False)
        rows = [{**f.cleaned_data, "id": f.instance.pk} for f in formset.forms]
        try:
            equipment.equipment_update(
                line=line,
                user=request.user,
                rows=rows,
                serials=paste.serial_list(),
                confirm_duplicates=confirm,
                may_record_delivery=may_record_delivery,
            )
        except equipment.DuplicateSerialWarning as exc:
            warning = exc
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "serials" in exc.error_dict:
                paste.add_error("serials", exc.error_dict["serials"])
            else:
                paste.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Equipment of “%(line)s” in folder %(number)s saved.")
                % {"line": line, "number": folder.number},
            )
            return redirect(_detail(folder, f"oneoff-{line.pk}"))
    return _folder_page(
        request,
        "folders/equipment_form.html",
        folder,
        formset=formset,
        paste=paste,
        warning=warning,
        line=line,
        today=timezone.localdate(),
    )


@require("view")
def equipment_search(request):
    term = (request.GET.get("q") or "").strip()[:100]
    results = list(selectors.equipment_search(term)) if term else []
    today = timezone.localdate()
    for piece in results:
        piece.status = piece.warranty_status(today)
    return render(request, "folders/equipment_search.html", {"q": term, "results": results, "today": today})


# --- templates (standard installations) -------------------------------------------------


@require("view")
def template_list(request):
    templates = FolderTemplate.objects.prefetch_related("items__product").order_by("name")
    return render(request, "folders/template_list.html", {"templates": templates})


@require("catalog.change")
def template_form(request, pk: int | None = None):
    """A new standard installation (no pk) or an existing one, with its products."""
    template = get_object_or_404(FolderTemplate, pk=pk) if pk is not None else None
    form = FolderTemplateForm(request.POST or None, instance=template, organization=request.organization)
    formset = FolderTemplateItemFormSet(
        request.POST or None,
        instance=template or FolderTemplate(),
        prefix="items",
        form_kwargs={"organization": request.organization},
    )
    if request.method == "POST":
        form_ok, formset_ok = form.is_valid(), formset.is_valid()
        if form_ok and formset_ok:
            data, items = form.cleaned_data, formset.rows()
            if record_save(
                request,
                form,
                template,
                create=lambda: standard_installations.folder_template_create(
                    organization=request.organization, user=request.user, data=data, items=items
                ),
                update=lambda fresh: standard_installations.folder_template_update(
                    template=fresh, user=request.user, data=data, items=items
                ),
                created=_("Standard installation “%(name)s” created."),
                saved=_("Standard installation “%(name)s” saved."),
            ):
                return redirect("folders:templates")
        if template is not None:
            template = stored(template)
    return render(
        request, "folders/template_form.html", {"form": form, "formset": formset, "template": template}
    )


@require("catalog.change")
@require_POST
def template_delete(request, pk: int):
    template = get_object_or_404(FolderTemplate, pk=pk)
    name = template.name
    standard_installations.folder_template_delete(template=template, user=request.user)
    messages.success(request, _("Standard installation “%(name)s” deleted.") % {"name": name})
    return redirect("folders:templates")
