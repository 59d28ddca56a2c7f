from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("products/", views.product_list, name="products"),
    path("products/new/", views.product_form, name="product_create"),
    path("products/<int:pk>/", views.product_form, name="product_edit"),
    path("products/<int:pk>/view/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/delete/", views.product_delete, name="product_delete"),
    path("packages/", views.package_list, name="packages"),
    path("packages/new/", views.package_form, name="package_create"),
    path("packages/<int:pk>/", views.package_form, name="package_edit"),
    path("packages/<int:pk>/view/", views.package_detail, name="package_detail"),
    path("packages/<int:pk>/delete/", views.package_delete, name="package_delete"),
    path("tax-rates/", views.tax_rate_list, name="tax_rates"),
    path("tax-rates/new/", views.tax_rate_form, name="tax_rate_create"),
    path("tax-rates/<int:pk>/", views.tax_rate_form, name="tax_rate_edit"),
    path("tax-rates/<int:pk>/delete/", views.tax_rate_delete, name="tax_rate_delete"),
]
