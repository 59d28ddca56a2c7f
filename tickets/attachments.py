"""What a ticket accepts as an attachment, judged by the file's content, never its name.

Accepted: PDF, PNG, JPEG, GIF, WebP, Word/Excel/PowerPoint (Office Open XML) and
OpenDocument text and spreadsheets - what customers send to describe a fault (a
screenshot, a photo of the display, a scan, an export). Legacy binary Office files (.doc,
.xls) are refused: they carry macros and no current office suite needs them. Plain text
(logs, CSV exports) has no magic bytes; it is accepted when the bytes decode as text (UTF-8,
or Windows-1252 as German Excel writes CSV) and contain no control characters. Everything
else (executables, archives, HTML pretending to be a PDF) is refused with a message.

The type sniffed here is stored and sent back on download; the user's file name is only a
label.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

ALLOWED_TYPES = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
}
TEXT_TYPE = "text/plain"
# Tab, line feed and carriage return are the only control characters a text file needs.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NAME_MAX = 200


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    size: int
    data: bytes


def max_bytes() -> int:
    return settings.TICKET_ATTACHMENT_MAX_BYTES


def max_files() -> int:
    return settings.TICKET_ATTACHMENT_MAX_FILES


def clean_name(raw: str) -> str:
    """The file's own name without any path, control characters or excess length."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    name = name.strip().strip(".") or "datei"
    if len(name) > NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: NAME_MAX - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:NAME_MAX]
    return name


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    for encoding in ("utf-8", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not _CONTROL.search(text)
    return False


def sniff(data: bytes) -> str | None:
    """The accepted content type of these bytes, or None."""
    kind = filetype.guess(data)
    if kind is not None:
        return kind.mime if kind.mime in ALLOWED_TYPES else None
    if data and _is_text(data):
        return TEXT_TYPE
    return None


def attachments_check(files) -> list[CheckedFile]:
    """Read and check uploaded files; refuse all of them (ValidationError naming each bad
    file) if one is too large, empty or of a type we do not take, so nothing is saved."""
    files = [f for f in files or [] if f is not None]
    if len(files) > max_files():
        raise ValidationError(
            _("At most %(count)d files can be attached at once.") % {"count": max_files()}, code="too_many"
        )
    checked, problems = [], []
    for upload in files:
        name = clean_name(getattr(upload, "name", ""))
        if upload.size > max_bytes():
            problems.append(
                _("“%(name)s” is too large (%(size)s); files may have at most %(limit)s.")
                % {"name": name, "size": filesizeformat(upload.size), "limit": filesizeformat(max_bytes())}
            )
            continue
        upload.seek(0)
        data = upload.read(max_bytes() + 1)
        if len(data) > max_bytes():
            problems.append(
                _("“%(name)s” is too large; files may have at most %(limit)s.")
                % {"name": name, "limit": filesizeformat(max_bytes())}
            )
            continue
        if not data:
            problems.append(_("“%(name)s” is empty.") % {"name": name})
            continue
        content_type = sniff(data)
        if content_type is None:
            problems.append(
                _(
                    "“%(name)s” is not a file type we accept. Allowed are PDF, images (PNG, JPEG, GIF, WebP), "
                    "Word, Excel, PowerPoint, OpenDocument and plain text."
                )
                % {"name": name}
            )
            continue
        checked.append(CheckedFile(name=name, content_type=content_type, size=len(data), data=data))
    if problems:
        raise ValidationError(problems, code="attachment")
    return checked
