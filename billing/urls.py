from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("", views.run_list, name="runs"),
    path("preview/", views.preview, name="preview"),
    path("start/", views.start, name="start"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/resume/", views.resume, name="resume"),
]
