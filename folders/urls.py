from django.urls import path

from . import views

app_name = "folders"

urlpatterns = [
    path("", views.folder_list, name="list"),
    path("new/<int:customer_pk>/", views.folder_create, name="create"),
    path(
        "new/<int:customer_pk>/from-template/", views.folder_create_from_template, name="create_from_template"
    ),
    path("<int:pk>/", views.folder_detail, name="detail"),
    path("<int:pk>/edit/", views.folder_edit, name="edit"),
    path("<int:pk>/activate/", views.folder_activate, name="activate"),
    path("<int:pk>/suspend/", views.folder_suspend, name="suspend"),
    path("<int:pk>/terminate/", views.folder_terminate, name="terminate"),
    path("<int:pk>/cancel/", views.folder_cancel, name="cancel"),
    path("<int:pk>/cancel/withdraw/", views.folder_cancellation_withdraw, name="cancellation_withdraw"),
    path("<int:pk>/oneoff/new/", views.oneoff_add, name="oneoff_add"),
    path("<int:pk>/oneoff/<int:line_pk>/", views.oneoff_edit, name="oneoff_edit"),
    path("<int:pk>/oneoff/<int:line_pk>/delete/", views.oneoff_delete, name="oneoff_delete"),
    path("<int:pk>/oneoff/<int:line_pk>/pieces/", views.equipment_edit, name="equipment_edit"),
    path("<int:pk>/recurring/new/", views.recurring_add, name="recurring_add"),
    path("<int:pk>/recurring/<int:line_pk>/", views.recurring_edit, name="recurring_edit"),
    path("<int:pk>/recurring/<int:line_pk>/change/", views.recurring_change, name="recurring_change"),
    path("<int:pk>/recurring/<int:line_pk>/delete/", views.recurring_delete, name="recurring_delete"),
    path("equipment/", views.equipment_search, name="equipment_search"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_form, name="template_create"),
    path("templates/<int:pk>/", views.template_form, name="template_edit"),
    path("templates/<int:pk>/delete/", views.template_delete, name="template_delete"),
]
