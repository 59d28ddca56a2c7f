from django.urls import path

from . import views

app_name = "financing"

urlpatterns = [
    path("folder/<int:pk>/", views.financing_edit, name="edit"),
    path("folder/<int:pk>/remove/", views.financing_remove, name="remove"),
]
