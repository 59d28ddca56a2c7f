from django.urls import path

from . import chorus_views, dispatch_views, views
from .models import DocumentKind

app_name = "documents"

urlpatterns = [
    path("quotes/", views.document_list, {"kind": DocumentKind.QUOTE}, name="quotes"),
    path("invoices/", views.document_list, {"kind": DocumentKind.INVOICE}, name="invoices"),
    path("credit-notes/", views.document_list, {"kind": DocumentKind.CREDIT_NOTE}, name="credit_notes"),
    path("delivery-notes/", views.document_list, {"kind": DocumentKind.DELIVERY_NOTE}, name="delivery_notes"),
    path(
        "dunning-letters/", views.document_list, {"kind": DocumentKind.DUNNING_LETTER}, name="dunning_letters"
    ),
    path("chorus-pro/", chorus_views.chorus_export, name="chorus"),
    path("outbox/", dispatch_views.outbox, name="outbox"),
    path("outbox/print/", dispatch_views.post_list, name="outbox_print"),
    path("outbox/print/pdf/", dispatch_views.post_print, name="outbox_print_pdf"),
    path("outbox/<int:pk>/send-again/", dispatch_views.dispatch_send_again, name="dispatch_send_again"),
    path("mail-templates/", dispatch_views.mail_templates, name="mail_templates"),
    path("mail-templates/save/", dispatch_views.mail_templates_save, name="mail_templates_save"),
    path("<int:pk>/", views.document_detail, name="detail"),
    path("<int:pk>/pdf/", views.document_pdf, name="pdf"),
    path("<int:pk>/einvoice/", views.document_einvoice, name="einvoice"),
    path("<int:pk>/pdf/status/", views.document_pdf_status, name="pdf_status"),
    path("<int:pk>/pdf/render/", views.document_render, name="render"),
    path("<int:pk>/issue/", views.document_issue, name="issue"),
    path("<int:pk>/discard/", views.document_discard, name="discard"),
    path("<int:pk>/send/", views.document_send, name="send"),
    path("<int:pk>/send-to-financier/", views.delivery_note_send_to_financier, name="send_to_financier"),
    path("<int:pk>/accept/", views.quote_accept, name="accept"),
    path("<int:pk>/decline/", views.quote_decline, name="decline"),
    path("<int:pk>/revise/", views.quote_revise, name="revise"),
    path("<int:pk>/cancel/", views.invoice_cancel, name="cancel"),
    path("<int:pk>/credit/", views.credit_note_create, name="credit_note_create"),
    path("folder/<int:folder_pk>/quote/", views.quote_create, name="quote_create"),
    path("folder/<int:folder_pk>/invoice-oneoff/", views.invoice_oneoff, name="invoice_oneoff"),
    path("folder/<int:folder_pk>/delivery-note/", views.delivery_note_create, name="delivery_note_create"),
]
