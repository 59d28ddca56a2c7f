from django.urls import path

from .views import dunning

app_name = "payments"

urlpatterns: list = [
    path("dunning/", dunning.dunning_run, name="dunning"),
    path("dunning/approve/", dunning.dunning_approve, name="dunning_approve"),
    path("dunning/levels/", dunning.dunning_levels, name="dunning_levels"),
    path("dunning/runs/", dunning.dunning_runs, name="dunning_runs"),
    path("dunning/runs/<int:pk>/", dunning.dunning_run_detail, name="dunning_run_detail"),
    path("dunning/print/", dunning.dunning_print, name="dunning_print"),
    path("dunning/print/done/", dunning.dunning_mark_printed, name="dunning_mark_printed"),
    path("dunning/invoice/<int:document_pk>/", dunning.invoice_dunning, name="invoice_dunning"),
    path("dunning/invoice/<int:document_pk>/dispute/", dunning.dispute_open, name="dispute_open"),
    path("dunning/disputes/", dunning.disputes, name="disputes"),
    path("dunning/disputes/<int:pk>/resolve/", dunning.dispute_resolve, name="dispute_resolve"),
    path("dunning/stops/", dunning.dunning_stops, name="dunning_stops"),
    path("dunning/stops/new/", dunning.dunning_stop_add, name="dunning_stop_add"),
    path("dunning/stops/<int:pk>/lift/", dunning.dunning_stop_lift, name="dunning_stop_lift"),
]
