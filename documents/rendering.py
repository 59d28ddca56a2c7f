"""PDF rendering of business documents (WeasyPrint), from frozen data only.

An issued document is a record (GoBD): its PDF is rendered once from the snapshot taken
at issuing time and stored with its SHA-256. So this module never reads the database; the
model layer converts a ``Document`` into a ``PdfDocument`` and calls ``render_pdf``.

Layout: a DIN 5008 form B business letter (address window 45 mm from the top, 20 mm from
the left, 85 x 45 mm; information block at 125 mm), the lines table with a header that
repeats on every page, VAT per rate, and the issuer's legal data (§ 35a GmbHG, § 14 UStG)
in the footer of every page.

Language: the PDF follows the *customer's* language, not the active UI language, and the
same Celery worker renders German and English documents one after the other. So labels
come from ``documents.labels``, keyed by language instead of gettext, and numbers and
dates are formatted explicitly rather than by Django's active locale.

Speed: stylesheet and fonts are parsed once per process (``_resources``), templates are
cached by Django's loader, logos are scaled once (``_prepared_logo``). The embedded font
is a Latin subset of DejaVu Sans Condensed (``static/fonts``, ~40 kB instead of ~680 kB),
because WeasyPrint subsets every embedded font for every PDF: with the system DejaVu
files that took about two thirds of the ~410 ms a one-page invoice cost (cProfile).
Install Debian's ``libharfbuzz-subset0`` so that WeasyPrint subsets with HarfBuzz
instead of fontTools (another ~40 ms). ``manage.py bench_pdf`` measures the result.
"""

from __future__ import annotations

import atexit
import base64
import datetime as dt
import functools
import io
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from django.template.loader import get_template

from catalog.units import unit_label
from documents.engine import (
    Totals,
    format_eur,
    format_number,
    format_percent,
)
from documents.labels import INFO_LABELS, LABELS, format_date, format_iban

Kind = Literal["quote", "invoice", "credit_note", "delivery_note", "dunning_letter"]
Language = Literal["de", "en"]
KINDS: tuple[str, ...] = ("quote", "invoice", "credit_note", "delivery_note", "dunning_letter")

_PROJECT_DIR = Path(__file__).resolve().parent.parent
CSS_PATH = _PROJECT_DIR / "templates" / "documents" / "pdf" / "pdf.css"
FONT_DIR = _PROJECT_DIR / "static" / "fonts"
# (file, weight) of the "Document Sans" family; see static/fonts/README.md. Our own family
# name, so that no installed font can take its place.
FONT_FILES = (
    ("DejaVuSansCondensed-Latin.ttf", "normal"),
    ("DejaVuSansCondensed-Bold-Latin.ttf", "bold"),
)
FONT_FAMILY = "Document Sans"


# --- Snapshot dataclasses -------------------------------------------------------------


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool | float) or not isinstance(value, int | str):
        raise TypeError(f"{name} must be a Decimal, int or str, not {type(value).__name__}")
    return Decimal(value)


def _freeze(instance: object, *names: str) -> None:
    """Store sequence fields as tuples, so JSON lists from a snapshot can be passed as they are."""
    for name in names:
        value = getattr(instance, name)
        if isinstance(value, list):
            object.__setattr__(instance, name, tuple(tuple(v) if isinstance(v, list) else v for v in value))


@dataclass(frozen=True, kw_only=True)
class Party:
    """The recipient as it was when the document was issued (snapshot, never a FK)."""

    name: str
    address_lines: tuple[str, ...]
    vat_id: str = ""
    tax_number: str = ""
    customer_number: str = ""
    contact_name: str = ""

    def __post_init__(self) -> None:
        _freeze(self, "address_lines")


@dataclass(frozen=True, kw_only=True)
class Issuer:
    """The organization's legal data as printed on the document (§ 14 UStG, § 35a GmbHG)."""

    legal_name: str
    address_lines: tuple[str, ...]
    vat_id: str = ""
    tax_number: str = ""
    register_court: str = ""
    register_number: str = ""
    seat: str = ""  # "Sitz der Gesellschaft" (§ 35a GmbHG), printed with the register data
    managing_directors: tuple[str, ...] | str = ()
    iban: str = ""
    bic: str = ""
    bank_name: str = ""
    creditor_id: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    logo_bytes: bytes | None = None
    logo_mime: str = ""

    def __post_init__(self) -> None:
        _freeze(self, "address_lines", "managing_directors")


@dataclass(frozen=True, kw_only=True)
class PdfLine:
    """One printed line. ``unit_price``/``net`` are None on delivery notes."""

    position: int
    description: str
    detail: str = ""  # serial numbers, service period ... (may contain line breaks)
    quantity: Decimal
    unit: str = ""
    unit_price: Decimal | None = None
    discount_percent: Decimal = Decimal(0)
    tax_rate: Decimal | None = None
    net: Decimal | None = None
    group_title: str = ""  # lines of one folder / site are printed under this heading

    def __post_init__(self) -> None:
        # Snapshots stored as JSON carry numbers as strings; floats are refused as in the engine.
        for name in ("quantity", "unit_price", "discount_percent", "tax_rate", "net"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Decimal):
                object.__setattr__(self, name, _decimal(value, name))


@dataclass(frozen=True, kw_only=True)
class DunnedRow:
    """A dunning letter's open item: an invoice (number, date, due date) or a fee."""

    text: str
    amount: Decimal
    date: dt.date | None = None
    due_date: dt.date | None = None


@dataclass(frozen=True, kw_only=True)
class LeasedObject:
    """What a financier needs to match an invoice to its lease (DESIGN.md section 4)."""

    end_customer: str
    folder: str = ""
    delivery_address: tuple[str, ...] = ()
    contract_reference: str = ""
    serial_numbers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _freeze(self, "delivery_address", "serial_numbers")


InfoValue = str | int | Decimal | dt.date | tuple[dt.date, dt.date]


@dataclass(frozen=True, kw_only=True)
class CycleTotals:
    """A quote's recurring charges of one billing cycle; ``cycle`` is the printed name
    ("monatlich") in the document's language. Cycles are never added together."""

    cycle: str
    totals: Totals


@dataclass(frozen=True, kw_only=True)
class PayerTotals:
    """A quote's block that another payer (the financier) is invoiced for, named by it;
    it equals that payer's invoice and is never added to what the recipient pays."""

    payer: str
    totals: Totals


@dataclass(frozen=True, kw_only=True)
class PdfDocument:
    """Everything printed on one document, frozen at issuing time.

    ``info`` holds extra (label, value) pairs for the information block. A label that is a
    key of ``INFO_LABELS`` (``"due_date"``, ``"service_period"``, ...) is translated into
    the document's language; any other label is printed as given. Values may be strings,
    dates, Decimals or a (start, end) date pair and are formatted for the language.
    """

    kind: Kind
    language: Language = "de"
    number: str
    issue_date: dt.date
    issuer: Issuer
    recipient: Party
    info: tuple[tuple[str, InfoValue], ...] = ()
    intro_text: str = ""
    lines: tuple[PdfLine, ...] = ()
    totals: Totals | None = None
    tax_note: str = ""
    payment_text: str = ""
    closing_text: str = ""
    references: tuple[str, ...] | str = ()
    leased_object: LeasedObject | None = None
    delivery_address: tuple[str, ...] = ()
    title: str = ""  # overrides the default title ("Rechnung Nr. ...") when set
    # A credit note that reverses its invoice in full ("Stornorechnung"); a partial one
    # corrects it ("Rechnungskorrektur").
    cancellation: bool = False
    # Quotes: the recurring charges per cycle, printed apart from the one-off total.
    recurring_totals: tuple[CycleTotals, ...] = ()
    # Quotes of a financed folder: what the financier is invoiced, printed first.
    financed_totals: PayerTotals | None = None
    # Dunning letters: the open items reminded of, instead of priced lines.
    dunned: tuple[DunnedRow, ...] = ()

    def __post_init__(self) -> None:
        _freeze(self, "info", "lines", "references", "delivery_address", "recurring_totals", "dunned")
        if self.kind not in KINDS:
            raise ValueError(f"unknown document kind {self.kind!r}")
        if self.language not in LABELS:
            raise ValueError(f"unsupported document language {self.language!r}")
        if self.kind != "delivery_note" and self.totals is None:
            raise ValueError(f"a {self.kind} needs totals")
        if self.kind in ("invoice", "credit_note") and not (self.issuer.vat_id or self.issuer.tax_number):
            # § 14 (4) Nr. 2 UStG: an invoice without the issuer's tax number or VAT ID is no invoice.
            raise ValueError("an invoice needs the issuer's VAT ID or tax number")


def _as_date(value: Any) -> Any:
    """ISO date strings (as a JSON snapshot stores them) become dates; anything else is kept."""
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _format_value(value: Any, lang: str) -> str:
    value = tuple(_as_date(v) for v in value) if isinstance(value, tuple | list) else _as_date(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return format_date(value, lang)
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, dt.date) for v in value):
        return f"{format_date(value[0], lang)} – {format_date(value[1], lang)}"
    if isinstance(value, Decimal):
        return format_number(value, lang, places=None)
    return str(value)


def _as_tuple(value: tuple[str, ...] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(v for v in value if v)


# --- View model -----------------------------------------------------------------------


def _title(doc: PdfDocument, labels: dict[str, str]) -> str:
    if doc.title:
        return doc.title
    key = "title_cancellation" if doc.kind == "credit_note" and doc.cancellation else "title_" + doc.kind
    return f"{labels[key]} {labels['number_prefix']} {doc.number}"


def _info_rows(doc: PdfDocument, labels: dict[str, str]) -> list[tuple[str, str]]:
    lang = doc.language
    rows = [(labels["number_" + doc.kind], doc.number), (labels["date"], format_date(doc.issue_date, lang))]
    info_labels = INFO_LABELS[lang]
    extra = [(info_labels.get(label, label), _format_value(value, lang)) for label, value in doc.info]
    given = {label for label, _ in extra}
    if doc.recipient.customer_number and info_labels["customer_number"] not in given:
        rows.append((info_labels["customer_number"], doc.recipient.customer_number))
    rows.extend(extra)
    if doc.recipient.vat_id:
        rows.append((labels["your_vat_id"], doc.recipient.vat_id))
    return rows


def _contact_rows(issuer: Issuer, labels: dict[str, str]) -> list[tuple[str, str]]:
    rows = [(labels["phone"], issuer.phone), (labels["email"], issuer.email), (labels["web"], issuer.website)]
    return [(label, value) for label, value in rows if value]


def _line_rows(doc: PdfDocument) -> list[dict[str, Any]]:
    lang = doc.language
    rows: list[dict[str, Any]] = []
    current_group = ""
    for line in doc.lines:
        if line.group_title and line.group_title != current_group:
            rows.append({"is_group": True, "title": line.group_title})
        current_group = line.group_title
        rows.append(
            {
                "is_group": False,
                "position": line.position,
                "description": line.description,
                "detail": line.detail,
                "quantity": format_number(line.quantity, lang, places=None),
                # Stored as a code; the word fits the quantity and the document's language.
                "unit": unit_label(line.unit, line.quantity, lang),
                "unit_price": ""
                if line.unit_price is None
                else format_eur(line.unit_price, lang, max_places=4),
                "discount": format_percent(line.discount_percent, lang) if line.discount_percent else "",
                "tax_rate": "" if line.tax_rate is None else format_percent(line.tax_rate, lang),
                "net": "" if line.net is None else format_eur(line.net, lang),
            }
        )
    return rows


# Amounts longer than this ("1.234.567,89 €" has 14 characters) get the wide price and
# amount columns, so nine-digit sums never run into the VAT column or past the margin.
WIDE_AMOUNT_CHARS = 12


def _wide_amounts(rows: list[dict[str, Any]]) -> bool:
    return any(
        len(row.get(key) or "") > WIDE_AMOUNT_CHARS
        for row in rows
        if not row["is_group"]
        for key in ("unit_price", "net")
    )


def _totals_block(
    totals: Totals, labels: dict[str, str], lang: str, gross_label: str
) -> list[dict[str, Any]]:
    rows = [{"label": labels["net_total"], "amount": format_eur(totals.net, lang), "css": "net"}]
    for group in totals.groups:
        template = labels["vat_on"] if group.rate else labels["vat_zero_on"]
        label = template.format(rate=format_percent(group.rate, lang), net=format_eur(group.net, lang))
        rows.append({"label": label, "amount": format_eur(group.tax, lang), "css": "tax"})
    if not totals.groups and totals.tax:
        rows.append({"label": labels["vat_on_total"], "amount": format_eur(totals.tax, lang), "css": "tax"})
    rows.append({"label": gross_label, "amount": format_eur(totals.gross, lang), "css": "gross"})
    return rows


def _totals_rows(doc: PdfDocument, labels: dict[str, str]) -> list[dict[str, Any]]:
    """Net, VAT per rate and gross; on a quote with recurring charges the one-off total
    and each cycle's total, each under its own heading and never added together. On the
    quote of a financed folder first the financier's block (what it will be invoiced),
    then what the recipient pays once and per cycle: one block per payer."""
    lang = doc.language
    totals = doc.totals
    if totals is None:
        return []
    financed = doc.financed_totals
    if not doc.recurring_totals and financed is None:
        return _totals_block(totals, labels, lang, labels["gross_total"])
    rows: list[dict[str, Any]] = []
    if financed is not None:
        rows.append(
            {"label": labels["financed_heading"].format(payer=financed.payer), "amount": "", "css": "heading"}
        )
        rows += _totals_block(
            financed.totals, labels, lang, labels["gross_total_financed"].format(payer=financed.payer)
        )
    if totals.groups:
        heading = labels["oneoff_heading_own" if financed is not None else "oneoff_heading"]
        rows.append({"label": heading, "amount": "", "css": "heading"})
        rows += _totals_block(totals, labels, lang, labels["gross_total_oneoff"])
    for entry in doc.recurring_totals:
        heading = labels["recurring_heading_own" if financed is not None else "recurring_heading"]
        rows.append({"label": heading.format(cycle=entry.cycle), "amount": "", "css": "heading"})
        rows += _totals_block(
            entry.totals, labels, lang, labels["gross_total_cycle"].format(cycle=entry.cycle)
        )
    return rows


def _footer_columns(issuer: Issuer, labels: dict[str, str]) -> list[list[tuple[str, str]]]:
    """Issuer data for the footer of every page, as columns of (label, value) lines.

    § 35a GmbHG / § 80 AktG require legal form, seat, register court and number and the
    managing directors on business letters; § 14 UStG the tax number or VAT ID.
    """
    directors = _as_tuple(issuer.managing_directors)
    columns = [
        [("", issuer.legal_name), *(("", line) for line in issuer.address_lines), ("", issuer.website)],
        [
            (labels["managing_directors"], ", ".join(directors)),
            # The seat belongs to the register data of a registered company.
            (labels["seat"], issuer.seat if (issuer.register_court or issuer.register_number) else ""),
            ("", issuer.register_court),
            ("", issuer.register_number),
        ],
        [
            (labels["vat_id"], issuer.vat_id),
            (labels["tax_number"], issuer.tax_number),
            (labels["creditor_id"], issuer.creditor_id),
        ],
        [
            ("", issuer.bank_name),
            (labels["iban"], format_iban(issuer.iban) if issuer.iban else ""),
            (labels["bic"], issuer.bic),
        ],
    ]
    columns = [[(label, value) for label, value in column if value] for column in columns]
    return [column for column in columns if column]


LOGO_MAX_PIXELS = 1200  # 90 mm wide at ~340 dpi: sharp in print, small in the PDF


def _logo_data_uri(issuer: Issuer) -> str:
    if not issuer.logo_bytes:
        return ""
    return _prepared_logo(issuer.logo_bytes, issuer.logo_mime or "image/png")


@functools.lru_cache(maxsize=16)
def _prepared_logo(data: bytes, mime: str) -> str:
    """The logo as a data: URI, raster logos scaled down once per process.

    An uploaded 2400 px PNG costs ~150 ms of decoding and re-encoding in every single
    PDF (and bloats each stored file); scaled to LOGO_MAX_PIXELS it is negligible.
    """
    if mime != "image/svg+xml":
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(data)) as image:
                if max(image.size) > LOGO_MAX_PIXELS:
                    image.thumbnail((LOGO_MAX_PIXELS, LOGO_MAX_PIXELS), Image.Resampling.LANCZOS)
                    keep_jpeg = image.format == "JPEG" and image.mode in ("RGB", "L", "CMYK")
                    buffer = io.BytesIO()
                    if keep_jpeg:
                        image.save(buffer, "JPEG", quality=90)
                        data, mime = buffer.getvalue(), "image/jpeg"
                    else:
                        image.save(buffer, "PNG", optimize=True)
                        data, mime = buffer.getvalue(), "image/png"
        except (UnidentifiedImageError, OSError):
            pass  # let WeasyPrint try (and skip the image if it cannot read it either)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def build_context(doc: PdfDocument) -> dict[str, Any]:
    """Everything the templates print, already formatted for the document's language."""
    lang = doc.language
    labels = LABELS[lang]
    issuer = doc.issuer
    show_prices = doc.kind != "delivery_note" and any(line.unit_price is not None for line in doc.lines)
    rows = _line_rows(doc)
    recipient_lines = [doc.recipient.name]
    if doc.recipient.contact_name:
        recipient_lines.append(doc.recipient.contact_name)
    recipient_lines.extend(doc.recipient.address_lines)
    leased = doc.leased_object
    return {
        "doc": doc,
        "kind": doc.kind,
        "lang": lang,
        "L": labels,
        "title": _title(doc, labels),
        "issue_date_iso": doc.issue_date.isoformat(),
        "issuer": issuer,
        "logo_uri": _logo_data_uri(issuer),
        "sender_line": " · ".join([issuer.legal_name, *issuer.address_lines]),
        "recipient_lines": recipient_lines,
        "info_rows": _info_rows(doc, labels),
        "contact_rows": _contact_rows(issuer, labels),
        "references": _as_tuple(doc.references),
        "rows": rows,
        "wide_amounts": _wide_amounts(rows),
        "show_prices": show_prices,
        "show_discount": show_prices and any(line.discount_percent for line in doc.lines),
        "show_tax_rate": show_prices and any(line.tax_rate is not None for line in doc.lines),
        "totals_rows": _totals_rows(doc, labels) if doc.totals and show_prices else [],
        "footer_columns": _footer_columns(issuer, labels),
        "leased": leased,
        "leased_serials": ", ".join(leased.serial_numbers) if leased else "",
        "delivery_address": _delivery_box(doc, recipient_lines),
        "dunned_rows": _dunned_rows(doc),
        "dunned_total": format_eur(doc.totals.gross, lang) if doc.totals else "",
    }


def _dunned_rows(doc: PdfDocument) -> list[dict[str, str]]:
    lang = doc.language
    return [
        {
            "text": row.text,
            "date": format_date(row.date, lang) if row.date else "",
            "due_date": format_date(row.due_date, lang) if row.due_date else "",
            "amount": format_eur(row.amount, lang),
        }
        for row in doc.dunned
    ]


def _delivery_box(doc: PdfDocument, recipient_lines: list[str]) -> tuple[str, ...]:
    """The delivery address box, unless the address window shows that site already (a
    delivery note is addressed to where the goods go)."""
    site = tuple(doc.delivery_address)
    if doc.kind == "delivery_note" and set(site) <= set(recipient_lines):
        return ()
    return site


# --- Rendering ------------------------------------------------------------------------


class _LocalOnlyFetcher:
    """Lets WeasyPrint load our own fonts and inline (data:) images, nothing else.

    Document text comes from customers and staff; even though templates escape it, a PDF
    renderer that can be made to fetch arbitrary URLs or files is a classic SSRF / local
    file disclosure hole, so anything outside ``FONT_DIR`` is refused.
    """

    def __init__(self) -> None:
        from weasyprint.urls import URLFetcher

        self._fetcher = URLFetcher(allowed_protocols={"file", "data"}, allow_redirects=False)
        self._font_prefix = FONT_DIR.resolve().as_uri() + "/"

    def __call__(self, url: str):
        if url.startswith("file:") and not url.startswith(self._font_prefix):
            raise ValueError(f"refusing to load {url!r} into a document")
        return self._fetcher.fetch(url)


@functools.cache
def _resources() -> tuple[Any, Any, Any]:
    """Font configuration, parsed stylesheet and URL fetcher: built once per process.

    Parsing the CSS and registering the @font-face fonts with fontconfig costs more than
    laying out a one-page invoice, so it must not happen per document.
    """
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    fetcher = _LocalOnlyFetcher()
    font_faces = "\n".join(
        f'@font-face {{ font-family: "{FONT_FAMILY}"; font-weight: {weight}; font-style: normal; '
        f'src: url("{(FONT_DIR / name).resolve().as_uri()}") format("truetype"); }}'
        for name, weight in FONT_FILES
    )
    css = CSS(
        string=font_faces + "\n" + CSS_PATH.read_text(encoding="utf-8"),
        base_url=CSS_PATH.parent.as_uri() + "/",
        font_config=font_config,
        url_fetcher=fetcher,
    )
    return font_config, css, fetcher


# Drop the cached fonts before interpreter shutdown so WeasyPrint can remove its temp folder.
atexit.register(_resources.cache_clear)

_RENDER_LOCK = threading.Lock()  # pango/fontconfig objects are shared and not thread-safe

# WeasyPrint's image cache, shared between documents: the decoded and re-encoded logo of
# each organization is kept instead of being rebuilt for every PDF. Bounded by clearing.
_IMAGE_CACHE: dict[str, Any] = {}
_IMAGE_CACHE_MAX = 64


def render_html(doc: PdfDocument) -> str:
    """The HTML fed to WeasyPrint (useful for debugging a layout in a browser)."""
    return get_template(f"documents/pdf/{doc.kind}.html").render(build_context(doc))


def render_pdf(doc: PdfDocument, *, pdf_variant: str | None = None) -> bytes:
    """Render the document to PDF bytes. Same input, same bytes (no clock, no randomness).
    ``pdf_variant="pdf/a-3b"`` makes the PDF/A-3 that a ZUGFeRD invoice is built on."""
    from weasyprint import HTML

    html = render_html(doc)
    font_config, css, fetcher = _resources()
    with _RENDER_LOCK:
        if len(_IMAGE_CACHE) > _IMAGE_CACHE_MAX:
            _IMAGE_CACHE.clear()
        return HTML(string=html, base_url=CSS_PATH.parent.as_uri() + "/", url_fetcher=fetcher).write_pdf(
            stylesheets=[css],
            font_config=font_config,
            cache=_IMAGE_CACHE,
            # A fixed identifier keeps the bytes (and the stored SHA-256) reproducible.
            pdf_identifier=f"{doc.kind}:{doc.number}".encode(),
            pdf_variant=pdf_variant,
        )


__all__ = [
    "FONT_DIR",
    "CycleTotals",
    "DunnedRow",
    "INFO_LABELS",
    "LABELS",
    "Issuer",
    "LeasedObject",
    "Party",
    "PdfDocument",
    "PdfLine",
    "build_context",
    "format_date",
    "format_iban",
    "render_html",
    "render_pdf",
]
