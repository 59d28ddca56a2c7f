from django.urls import path

from . import views

app_name = "devtools"

urlpatterns = [
    path("outbox/", views.outbox_list, name="outbox"),
    path("outbox/<str:name>/", views.outbox_detail, name="outbox_detail"),
    path("outbox/<str:name>/attachments/<int:index>/", views.outbox_attachment, name="outbox_attachment"),
]
