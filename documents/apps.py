from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("documents")

    def ready(self):
        from folders.selectors import history_register

        from . import panels, system_texts  # noqa: F401 - system_texts registers the history text codes
        from .models import Document

        panels.register()
        _register_numbered_fields(Document)

        # Every document is filed under its folder's history (documents.services.drafts.document_audit);
        # tell the folder history how to label those entries (folders cannot import us).
        titles = {
            "quote": (_("Quote issued"), _("Quote sent"), _("Draft quote discarded")),
            "invoice": (_("Invoice issued"), _("Invoice sent"), _("Draft invoice discarded")),
            "credit_note": (_("Credit note issued"), _("Credit note sent"), _("Draft credit note discarded")),
            "delivery_note": (
                _("Delivery note issued"),
                _("Delivery note sent"),
                _("Draft delivery note discarded"),
            ),
            "dunning_letter": (
                _("Dunning letter issued"),
                _("Dunning letter sent"),
                _("Draft dunning letter discarded"),
            ),
        }
        action_titles = {
            "quote.draft_created": _("Draft quote created"),
            "quote.accepted": _("Quote accepted"),
            "quote.declined": _("Quote declined"),
            "quote.superseded": _("Quote superseded"),
            "invoice.cancelled": _("Invoice cancelled"),
            "invoice.credited": _("Invoice partly credited"),
            "delivery_note.sent_to_financier": _("Delivery note sent to the financier"),
            "chorus.exported": _("Exported for Chorus Pro"),
        }
        for kind, (issued, sent, discarded) in titles.items():
            action_titles[f"{kind}.issued"] = issued
            action_titles[f"{kind}.sent"] = sent
            action_titles[f"{kind}.draft_discarded"] = discarded
            action_titles[f"{kind}.dispatch_failed"] = _("Sending failed")
        history_register(models=dict.fromkeys(titles, Document), titles=action_titles)


def _register_numbered_fields(document_model) -> None:
    """The numbering checks a new pattern against the column and the numbers given out."""
    from organizations.numbering import NumberedField, numbered_field_register

    from .models import DocumentKind

    for kind in DocumentKind.values:
        numbered_field_register(
            kind,
            NumberedField(
                max_length=document_model._meta.get_field("number").max_length,
                taken=lambda organization, kind=kind: (
                    document_model.objects.filter(organization=organization, kind=kind)
                    .exclude(number="")
                    .values_list("number", flat=True)
                ),
            ),
        )
