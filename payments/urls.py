from django.urls import path

from .views import ledger, statements

app_name = "payments"

urlpatterns: list = [
    path("", ledger.payment_list, name="payments"),
    path("record/", ledger.payment_record, name="record"),
    path("open-items/", ledger.open_items, name="open_items"),
    path("open-items.xlsx", ledger.open_items_xlsx, name="open_items_xlsx"),
    path("customers/<int:customer_pk>/", ledger.customer_items, name="customer"),
    path("customers/<int:customer_pk>/apply-credit/", ledger.credit_apply, name="credit_apply"),
    path("customers/<int:customer_pk>/refund/", ledger.credit_refund, name="credit_refund"),
    path("mail/", ledger.mail_settings, name="mail_settings"),
    path("mail/save/", ledger.mail_settings_save, name="mail_settings_save"),
    path("statements/", statements.statement_list, name="statements"),
    path("statements/upload/", statements.statement_upload, name="statement_upload"),
    path("statements/<int:pk>/", statements.statement_detail, name="statement"),
    path("statements/<int:pk>/file/", statements.statement_file, name="statement_file"),
]
