from django.urls import path

from . import action_views, contact_views, views
from .models import CustomerKind

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("prospects/", views.prospect_list, name="prospects"),
    path("new/", views.customer_create, name="create"),
    path("prospects/new/", views.customer_create, {"kind": CustomerKind.PROSPECT}, name="prospect_create"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/payment/", views.customer_payment_edit, name="payment"),
    path("<int:pk>/convert/", views.customer_convert, name="convert"),
    path("<int:pk>/contacts/new/", contact_views.contact_add, name="contact_add"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", contact_views.contact_edit, name="contact_edit"),
    path("<int:pk>/contacts/<int:contact_pk>/toggle/", contact_views.contact_toggle, name="contact_toggle"),
    path("<int:pk>/delivery-sites/new/", views.delivery_site_add, name="delivery_site_add"),
    path("<int:pk>/delivery-sites/<int:site_pk>/edit/", views.delivery_site_edit, name="delivery_site_edit"),
    path(
        "<int:pk>/delivery-sites/<int:site_pk>/default/",
        views.delivery_site_default,
        name="delivery_site_default",
    ),
    path("<int:pk>/notes/new/", action_views.note_add, name="note_add"),
    path("<int:pk>/notes/<int:note_pk>/delete/", action_views.note_delete, name="note_delete"),
    path("<int:pk>/actions/new/", action_views.action_add, name="action_add"),
    path("actions/", action_views.action_calendar, name="actions"),
    path("actions/<int:pk>/edit/", action_views.action_edit, name="action_edit"),
    path("actions/<int:pk>/done/", action_views.action_done, name="action_done"),
    path("actions/<int:pk>/reopen/", action_views.action_reopen, name="action_reopen"),
    path("data-quality/", views.data_quality, name="data_quality"),
    path("functions/", contact_views.function_list, name="functions"),
    path("functions/new/", contact_views.function_add, name="function_add"),
    path("functions/defaults/", contact_views.function_defaults, name="function_defaults"),
    path("functions/<int:pk>/edit/", contact_views.function_edit, name="function_edit"),
    path("functions/<int:pk>/delete/", contact_views.function_delete, name="function_delete"),
]
