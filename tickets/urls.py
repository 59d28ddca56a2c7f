from django.urls import path

from . import views

app_name = "tickets"

urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("new/", views.ticket_create, name="create"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("<int:pk>/reply/", views.ticket_reply, name="reply"),
    path("<int:pk>/assign/", views.ticket_assign, name="assign"),
    path("<int:pk>/status/", views.ticket_status, name="status"),
    path("<int:pk>/priority/", views.ticket_priority, name="priority"),
    path("<int:pk>/files/<int:attachment_pk>/", views.attachment_download, name="attachment"),
]
