from django.urls import path

from .views import batches, ledger, mandates, statements

app_name = "payments"

urlpatterns: list = [
    path("batches/", batches.batch_list, name="batches"),
    path("batches/new/", batches.batch_new, name="batch_new"),
    path("batches/<int:pk>/", batches.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/file/", batches.batch_download, name="batch_download"),
    path("batches/<int:pk>/submit/", batches.batch_submit, name="batch_submit"),
    path("batches/<int:pk>/settle/", batches.batch_settle, name="batch_settle"),
    path("batches/<int:pk>/cancel/", batches.batch_cancel, name="batch_cancel"),
    path("batches/items/<int:pk>/return/", batches.item_return, name="item_return"),
    path("batches/settings/", mandates.payment_settings, name="settings"),
    path("mandates/", mandates.mandate_list, name="mandates"),
    path("mandates/gocardless.csv", batches.gocardless_mandates_export, name="gocardless_mandates"),
    path("mandates/new/<int:customer_pk>/", mandates.mandate_create, name="mandate_new"),
    path("mandates/<int:pk>/", mandates.mandate_detail, name="mandate_detail"),
    path("mandates/<int:pk>/change/", mandates.mandate_amend, name="mandate_amend"),
    path("mandates/<int:pk>/revoke/", mandates.mandate_revoke, name="mandate_revoke"),
    path("mandates/<int:pk>/pdf/", mandates.mandate_pdf, name="mandate_pdf"),
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
