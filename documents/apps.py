from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("documents")

    def ready(self):
        # Every document is filed under its folder's history (documents.services._audit);
        # tell the folder history how to label those entries (folders cannot import us).
        from folders import selectors

        from . import system_texts  # noqa: F401 - registers the history text codes
        from .models import Document

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
        _register_numbered_fields(Document)
        for kind, (issued, sent, discarded) in titles.items():
            selectors.HISTORY_MODELS[kind] = Document
            selectors.ACTION_TITLES[f"{kind}.issued"] = issued
            selectors.ACTION_TITLES[f"{kind}.sent"] = sent
            selectors.ACTION_TITLES[f"{kind}.draft_discarded"] = discarded
        selectors.ACTION_TITLES.update(
            {
                "quote.draft_created": _("Draft quote created"),
                "quote.accepted": _("Quote accepted"),
                "quote.declined": _("Quote declined"),
                "quote.superseded": _("Quote superseded"),
                "invoice.cancelled": _("Invoice cancelled"),
                "invoice.credited": _("Invoice partly credited"),
                "delivery_note.sent_to_financier": _("Delivery note sent to the financier"),
            }
        )


def _register_numbered_fields(document_model) -> None:
    """The numbering checks a new pattern against the column and the numbers given out."""
    from organizations.numbering import NUMBERED_FIELDS, NumberedField

    from .models import DocumentKind

    for kind in DocumentKind.values:
        NUMBERED_FIELDS[kind] = NumberedField(
            max_length=document_model._meta.get_field("number").max_length,
            taken=lambda organization, kind=kind: (
                document_model.objects.filter(organization=organization, kind=kind)
                .exclude(number="")
                .values_list("number", flat=True)
            ),
        )
