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


def _label(params: dict) -> str:
    """The document as str(Document) names it: its title and number ("(draft)" without)."""
    return f"{_title(params)} {params.get('number') or _('(draft)')}"


def _sent(params: dict) -> str:
    text = _("%(document)s sent to %(to)s.") % {"document": _label(params), "to": ", ".join(params["to"])}
    if params.get("notes"):
        text += " " + _("Delivery notes attached as proof of delivery: %(notes)s.") % {
            "notes": ", ".join(params["notes"])
        }
    return text


def _dispatched(params: dict) -> str:
    from .models import DispatchChannel

    return _("%(document)s sent: %(channel)s.") % {
        "document": _label(params),
        "channel": DispatchChannel(params["channel"]).label,
    }


system_texts_register(
    {
        "documents.issued": lambda p: (
            _("%(kind)s %(number)s to %(recipient)s issued.")
            % {"kind": _title(p), "number": p["number"], "recipient": p["recipient"]}
        ),
        "documents.discarded": lambda p: _("%(document)s discarded.") % {"document": _label(p)},
        "documents.quote_draft_saved": lambda p: _("Draft quote for %(name)s saved.") % p,
        "documents.quote_accepted": lambda p: _("Quote %(number)s accepted.") % p,
        "documents.quote_declined": lambda p: _("Quote %(number)s declined.") % p,
        "documents.quote_superseded": lambda p: _("Quote %(old)s superseded by %(new)s.") % p,
        "documents.invoice_cancelled": lambda p: _("Invoice %(number)s cancelled by %(credit)s.") % p,
        "documents.invoice_credited": lambda p: (
            _("Invoice correction %(credit)s for invoice %(number)s issued.") % p
        ),
        "documents.invoice_credited_in_full": lambda p: (
            _("Invoice %(number)s is credited in full by %(credits)s and therefore cancelled.")
            % {"number": p["number"], "credits": ", ".join(p["credits"])}
        ),
        "documents.sent": _sent,
        "documents.dispatched": _dispatched,
        "documents.dispatch_failed": lambda p: (
            _("%(document)s could not be sent: %(reason)s") % {"document": _label(p), "reason": p["reason"]}
        ),
        "documents.sent_to_financier": lambda p: (
            _("Delivery note %(number)s sent to the financier %(financier)s (%(to)s) as proof of delivery.")
            % {"number": p["number"], "financier": p["financier"], "to": ", ".join(p["to"])}
        ),
        "documents.chorus_exported": lambda p: (
            _("%(document)s exported for Chorus Pro in %(filename)s.")
            % {"document": _label(p), "filename": p["filename"]}
        ),
    }
)
