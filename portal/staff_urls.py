from django.urls import path

from . import staff_views

app_name = "portal_staff"

urlpatterns = [
    path("contacts/<int:contact_pk>/invite/", staff_views.invite, name="invite"),
]
