"""Notes and actions on a customer, and the calendar of all customers' actions (month,
week or a list of open actions).

Thin views: permission, form, one service call, a message naming the record, redirect.
Objects are fetched through scoped managers, so another organization's rows are 404.
An action done or reopened answers htmx with its row as the page it came from shows it.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from organizations.access import require
from organizations.months import first_of_month_after
from organizations.roles import Role
from organizations.tables import configure_table
from organizations.view_kit import refusal_on

from . import agenda, selectors, services
from .forms import ActionCalendarForm, ActionForm, NoteForm
from .models import Action, Customer, Note
from .tables import ActionTable
from .views import DETAIL_TABS, customer_summary, detail_url, simple_form_page


def _next_url(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- Notes -----------------------------------------------------------------------------


@require("notes.change")
def note_add(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    form = NoteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.note_create(customer=customer, user=request.user, text=form.cleaned_data["text"])
        messages.success(request, _("Note added to %(customer)s.") % {"customer": customer.name})
        return redirect(detail_url(customer))
    return simple_form_page(
        request, form, customer=customer, title=_("Add note"), cancel_url=detail_url(customer)
    )


@require("notes.change")
@require_POST
def note_delete(request, pk: int, note_pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    note = get_object_or_404(Note, pk=note_pk, customer=customer)
    # Everyone deletes their own notes; administrators may also clean up others'.
    if note.author_id != request.user.id and request.role != Role.ADMIN:
        raise PermissionDenied
    services.note_delete(note=note, user=request.user)
    messages.success(request, _("Note on %(customer)s deleted.") % {"customer": customer.name})
    return redirect(
        detail_url(customer, request.POST.get("tab") if request.POST.get("tab") in DETAIL_TABS else None)
    )


# --- Actions ---------------------------------------------------------------------------


@require("notes.change")
def action_add(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    form = ActionForm(request.POST if request.method == "POST" else None, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_on(form):
            action = services.action_create(
                customer=customer,
                user=request.user,
                due_on=data["due_on"],
                assignee=data["assignee"],
                description=data["description"],
            )
            messages.success(
                request,
                _("Action for %(customer)s due on %(date)s added.")
                % {"customer": customer.name, "date": _date(action.due_on)},
            )
            return redirect(detail_url(customer, "actions"))
    return simple_form_page(
        request, form, customer=customer, title=_("Add action"), cancel_url=detail_url(customer, "actions")
    )


def _date(day: dt.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


@require("notes.change")
def action_edit(request, pk: int):
    action = get_object_or_404(Action.objects.select_related("customer"), pk=pk)
    form = ActionForm(
        request.POST if request.method == "POST" else None, organization=request.organization, instance=action
    )
    fallback = detail_url(action.customer, "actions")
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            action = services.action_update(action=action, user=request.user, data=form.cleaned_data)
            messages.success(
                request, _("Action for %(customer)s saved.") % {"customer": action.customer.name}
            )
            return redirect(_next_url(request, fallback))
    action.refresh_from_db()
    return simple_form_page(
        request,
        form,
        customer=action.customer,
        title=_("Edit action"),
        cancel_url=_next_url(request, fallback),
        next=request.GET.get("next") or request.POST.get("next") or "",
    )


@require("notes.change")
@require_POST
def action_done(request, pk: int):
    action = get_object_or_404(Action.objects.select_related("customer"), pk=pk)
    action = services.action_complete(action=action, user=request.user)
    messages.success(
        request,
        _("Action for %(customer)s marked as done.") % {"customer": action.customer.name},
    )
    return _action_changed(request, action)


@require("notes.change")
@require_POST
def action_reopen(request, pk: int):
    action = get_object_or_404(Action.objects.select_related("customer"), pk=pk)
    action = services.action_reopen(action=action, user=request.user)
    messages.success(request, _("Action for %(customer)s reopened.") % {"customer": action.customer.name})
    return _action_changed(request, action)


def _action_changed(request, action: Action):
    """Without JavaScript: back to the page the button was on. With htmx: the action's
    row as the page it came from shows it - the customer page's actions tab, or the
    calendar's list of open actions (which posts row=list and its assignee filter)."""
    if not request.htmx:
        return redirect(_next_url(request, detail_url(action.customer, "actions")))
    if request.POST.get("row") != "list":
        context = {"action": action, "customer": action.customer, **customer_summary(action.customer)}
        return render(request, "customers/_action_update.html", context)
    # The done row stays in the list (with "Reopen"), so a slip of the mouse is undone
    # in place; the count in the title follows the list's assignee filter.
    calendar = ActionCalendarForm(
        {"assignee": request.POST.get("assignee", "")}, organization=request.organization
    )
    assignee = calendar.cleaned_data.get("assignee") if calendar.is_valid() else None
    context = {
        "table": ActionTable([action], orderable=False),
        "count": selectors.open_actions(assignee=assignee).count(),
        "assignee": assignee,
        # The row's own links ("next") lead back to the list, not to this POST's address.
        "list_path": _next_url(request, f"{reverse('customers:actions')}?view=list"),
    }
    return render(request, "customers/_open_action_update.html", context)


@require("view")
def action_calendar(request):
    """All customers' actions: month grid, week view or a plain list of open actions."""
    form = ActionCalendarForm(request.GET or None, organization=request.organization)
    params = {}
    if form.is_bound:
        form.is_valid()  # invalid values (unknown assignee, bad view) are simply dropped
        params = form.cleaned_data
    view = params.get("view") or "month"
    assignee = params.get("assignee")
    only_open = bool(params.get("open"))
    today = timezone.localdate()
    context = {
        "form": form,
        "view": view,
        "today": today,
        "assignee": assignee,
        "only_open": only_open,
    }
    if view == "week":
        monday = agenda.parse_week(request.GET.get("week")) or agenda.week_start(today)
        sunday = monday + dt.timedelta(days=6)
        actions = selectors.actions_between(start=monday, end=sunday, assignee=assignee, only_open=only_open)
        context.update(
            {
                "days": agenda.week_days(monday, selectors.actions_by_day(actions), today),
                "monday": monday,
                "sunday": sunday,
                "week_number": monday.isocalendar()[1],
                "prev": agenda.week_key(monday - dt.timedelta(days=7)),
                "next": agenda.week_key(monday + dt.timedelta(days=7)),
                "current": agenda.week_key(today),
                "month_of_view": agenda.month_key(monday),
                "week_of_view": agenda.week_key(monday),
            }
        )
    elif view == "list":
        table = ActionTable(selectors.open_actions(assignee=assignee))
        configure_table(request, table, per_page=50)
        context.update({"table": table, "count": table.paginator.count})
    else:
        view = context["view"] = "month"
        first = agenda.parse_month(request.GET.get("month")) or today.replace(day=1)
        start, end = agenda.month_range(first)
        actions = selectors.actions_between(start=start, end=end, assignee=assignee, only_open=only_open)
        week_of_view = agenda.week_key(today if agenda.month_key(today) == agenda.month_key(first) else first)
        weeks = agenda.month_weeks(first, selectors.actions_by_day(actions), today)
        context.update(
            {
                "weeks": weeks,
                # Phones get the month's actions as a list below the (narrow) grid.
                "agenda_days": [day for week in weeks for day in week if day.in_month and day.items],
                "first": first,
                "prev": agenda.month_key(first_of_month_after(first, -1)),
                "next": agenda.month_key(first_of_month_after(first, 1)),
                "current": agenda.month_key(today),
                "month_of_view": agenda.month_key(first),
                "week_of_view": week_of_view,
            }
        )
    return render(request, "customers/actions.html", context)
