"""What billing writes for people (run log, audit messages, contract alerts) as codes,
rendered in the reader's language (organizations.system_texts)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from organizations.system_texts import month, short_date, system_texts_register


def _delivered(params: dict) -> str:
    from customers.models import DeliveryMethod

    text = _("Delivery: %(sent)s invoices e-mailed, %(missing)s without an e-mail address.") % {
        "sent": params["sent"],
        "missing": params["missing"],
    }
    labels = dict(DeliveryMethod.choices)
    others = ", ".join(
        f"{labels.get(method, method)}: {count}" for method, count in sorted(params.get("others", {}).items())
    )
    if others:
        text += " " + _("To deliver otherwise: %(methods)s.") % {"methods": others}
    return text


def _chunks_stalled(params: dict) -> str:
    return ngettext(
        "%(count)s chunk stood still for more than %(minutes)s minutes (worker lost); "
        "handed to the workers again.",
        "%(count)s chunks stood still for more than %(minutes)s minutes (worker lost); "
        "handed to the workers again.",
        params["count"],
    ) % {"count": params["count"], "minutes": params["minutes"]}


def exception_summary(exc: BaseException) -> dict[str, str]:
    """What staff are told of an exception: its class and the first line of its message
    (never the traceback, which goes to the log)."""
    if isinstance(exc, ValidationError):
        detail = " ".join(exc.messages)
    else:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return {"exception": type(exc).__name__, "detail": detail[:300]}


def exception_text(exc: BaseException) -> str:
    return _error(exception_summary(exc))


def _error(params: dict) -> str:
    """An exception as staff read it: its class and the first line of its message."""
    detail = params.get("detail") or ""
    return f"{params['exception']}: {detail}" if detail else params["exception"]


def _chunks_failed(params: dict) -> str:
    text = _(
        "%(count)s of %(total)s chunks could not be billed (nothing of them was stored). "
        "Run the month again once the cause is fixed."
    ) % {"count": params["count"], "total": params["total"]}
    if params.get("cause"):
        text += " " + _("Cause: %(error)s") % {"error": params["cause"]}
    return text


def _planned(params: dict) -> str:
    return ngettext(
        "%(accounts)s billing accounts in %(chunks)s chunk.",
        "%(accounts)s billing accounts in %(chunks)s chunks.",
        params["chunks"],
    ) % {"accounts": params["accounts"], "chunks": params["chunks"]}


def _alert(params: dict) -> str:
    kind = params["kind"]
    values = {"folder": params["folder"], "date": short_date(params["date"])}
    if kind == "notice_deadline":
        text = _(
            "Notice deadline for folder %(folder)s: %(date)s. Without notice the contract continues after "
            "%(end)s. Talk to the customer about the renewal."
        ) % {**values, "end": short_date(params.get("end"))}
    elif kind == "contract_ends":
        text = _("Contract of folder %(folder)s ends on %(date)s.") % values
    elif kind == "term_renews":
        text = _("Contract term of folder %(folder)s ends on %(date)s and renews automatically.") % values
    else:
        text = (
            _("Contract term of folder %(folder)s ends on %(date)s. Offer the customer a renewal.") % values
        )
    if params.get("quote"):
        text += " " + _("A renewal quote was drafted.")
    return text


system_texts_register(
    {
        "billing.run_queued": lambda p: _("Billing run for %(month)s queued.") % {"month": month(p["month"])},
        "billing.run_resumed": lambda p: _("Billing run resumed."),
        "billing.run_resumed_log": lambda p: _("Run resumed."),
        "billing.run_dated": lambda p: (
            _("Date of the billing run moved from %(old)s to %(new)s.")
            % {"old": short_date(p["old"]), "new": short_date(p["new"])}
        ),
        "billing.run_not_picked_up": lambda p: _(
            "Billing run was not picked up by a worker; handed to the workers again."
        ),
        "billing.chunks_stalled": _chunks_stalled,
        "billing.run_planned": _planned,
        "billing.run_chunks_failed": _chunks_failed,
        "billing.run_error": lambda p: (
            _(
                "The billing run stopped on an unexpected error (%(error)s). Invoices issued before "
                "stay issued; resume the run once the cause is fixed. The technical details are in the "
                "server log."
            )
            % {"error": _error(p)}
        ),
        "billing.run_refused": lambda p: (
            _("The billing run could not be started: %(reason)s") % {"reason": p["reason"]}
        ),
        "billing.run_finished": lambda p: (
            _("Finished: %(invoices)s invoices, %(skipped)s folders skipped, %(failed)s failures.")
            % {"invoices": p["invoices"], "skipped": p["skipped"], "failed": p["failed"]}
        ),
        "billing.run_delivered": _delivered,
        "billing.contract_alert": _alert,
    }
)
