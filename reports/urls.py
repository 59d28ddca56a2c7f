from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("search/", views.search, name="search"),
]
