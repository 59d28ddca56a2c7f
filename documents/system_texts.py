"""What the document services write into histories, as codes rendered in the reader's
language (organizations.system_texts): an invoice issued by the nightly billing run is
read by German and English colleagues alike."""

from __future__ import annotations

from django.utils.translation import gettext as _

from organizations.system_texts import system_texts_register


def _title(params: dict) -> str:
    from .models import DocumentKind

    if params["kind"] == DocumentKind.CREDIT_NOTE:
        return (
            _("Cancellation invoice") if params.get("cancellation") else _("Credit note (invoice correction)")
        )
    return str(DocumentKind(params["kind"]).label)


system_texts_register(
    {
        "documents.issued": lambda p: (
            _("%(kind)s %(number)s to %(recipient)s issued.")
            % {"kind": _title(p), "number": p["number"], "recipient": p["recipient"]}
        ),
    }
)
