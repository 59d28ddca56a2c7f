"""What the folder services write into a folder's history, as codes rendered in the
reader's language (organizations.system_texts)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from organizations.system_texts import short_date, system_texts_register

system_texts_register(
    {
        "folders.prospect_converted": lambda p: _("Prospect converted into a customer."),
        "folders.version_from": lambda p: _("From %(date)s") % {"date": short_date(p["date"])},
        "folders.duplicate_serials_saved": lambda p: (
            _("Saved despite duplicate serial numbers: %(serials)s") % {"serials": ", ".join(p["serials"])}
        ),
        "folders.billing_day_kept": lambda p: (
            _("The organization's billing day changed; this folder keeps day %(day)s.") % {"day": p["day"]}
        ),
    }
)
