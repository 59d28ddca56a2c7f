from django.urls import path

from . import views

app_name = "organizations"

urlpatterns = [
    path("switch/", views.organization_switch, name="switch"),
    path("settings/", views.organization_settings, name="settings"),
    path("logo/", views.organization_logo, name="logo"),
    path("members/", views.member_list, name="members"),
    path("members/add/", views.member_add, name="member_add"),
    path("members/<int:pk>/", views.member_edit, name="member_edit"),
    path("members/<int:pk>/two-factor-reset/", views.member_two_factor_reset, name="member_two_factor_reset"),
    path("security/", views.security, name="security"),
    path("number-formats/", views.number_formats, name="number_formats"),
    path("number-formats/<slug:kind>/", views.number_format_edit, name="number_format_edit"),
]
