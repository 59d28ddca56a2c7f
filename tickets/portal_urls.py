"""The portal's ticket pages, mounted by portal/urls.py inside its namespace (`portal:`)."""

from django.urls import path

from . import portal_views

urlpatterns = [
    path("", portal_views.ticket_list, name="tickets"),
    path("new/", portal_views.ticket_new, name="ticket_new"),
    path("<int:pk>/", portal_views.ticket_detail, name="ticket"),
    path("<int:pk>/reply/", portal_views.ticket_reply, name="ticket_reply"),
    path("<int:pk>/close/", portal_views.ticket_close, name="ticket_close"),
    path("<int:pk>/files/<int:attachment_pk>/", portal_views.attachment_download, name="ticket_attachment"),
]
