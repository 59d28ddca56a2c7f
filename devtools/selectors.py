"""Reads of the file outbox (devtools.mail.OutboxEmailBackend): the messages an
organization may see, one message, one attachment."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from .mail import outbox_dir

# The backend's file names; anything else in a URL is not a message of the outbox (and
# never a path: no dots or slashes get through).
NAME_RE = re.compile(r"^\d{8}-\d{6}-\d{6}-[0-9a-f]{8}-(?P<owner>\d+)$")


@dataclass(frozen=True)
class Attachment:
    index: int
    filename: str
    content_type: str
    size: int


@dataclass
class OutboxMessage:
    name: str
    sent: dt.datetime | None
    sender: str
    to: str
    cc: str
    bcc: str
    subject: str
    body: str
    attachments: list[Attachment] = field(default_factory=list)


def _parse(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        return BytesParser(policy=policy.default).parse(handle)


def _visible(name: str, organization_id: int) -> bool:
    """A message sent inside an organization's scope belongs to that organization; one
    sent outside any scope (owner 0; none of the product's mail today) to no tenant."""
    match = NAME_RE.match(name)
    return match is not None and int(match["owner"]) in (0, organization_id)


def _attachment_parts(mime: EmailMessage) -> list:
    return [part for part in mime.iter_attachments() if not part.is_multipart()]


def _summary(name: str, mime: EmailMessage, *, with_body: bool) -> OutboxMessage:
    try:
        sent = parsedate_to_datetime(str(mime["Date"])) if mime["Date"] else None
    except (TypeError, ValueError):
        sent = None
    if sent is not None and sent.tzinfo is None:
        # Django writes the Date in UTC as "-0000", which Python reads as naive.
        sent = sent.replace(tzinfo=dt.UTC)
    body = ""
    if with_body:
        part = mime.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part is not None else ""
    attachments = []
    for index, part in enumerate(_attachment_parts(mime)):
        payload = part.get_payload(decode=True) or b""
        attachments.append(
            Attachment(
                index=index,
                filename=part.get_filename() or f"attachment-{index + 1}",
                content_type=part.get_content_type(),
                size=len(payload),
            )
        )
    return OutboxMessage(
        name=name,
        sent=sent,
        sender=str(mime.get("From", "")),
        to=str(mime.get("To", "")),
        cc=str(mime.get("Cc", "")),
        bcc=str(mime.get("Bcc", "")),
        subject=str(mime.get("Subject", "")),
        body=body,
        attachments=attachments,
    )


def outbox_message_list(*, organization_id: int, limit: int = 100) -> tuple[list[OutboxMessage], int]:
    """The newest `limit` messages the organization may see, newest first, and how many
    it may see in all."""
    folder = outbox_dir()
    if not folder.is_dir():
        return [], 0
    messages, total = [], 0
    for path in sorted(folder.glob("*.eml"), reverse=True):
        if not _visible(path.stem, organization_id):
            continue
        total += 1
        if len(messages) < limit:
            try:
                messages.append(_summary(path.stem, _parse(path), with_body=False))
            except OSError:
                continue  # removed by hand in the meantime
    return messages, total


def _load(name: str, organization_id: int) -> EmailMessage | None:
    if not _visible(name, organization_id):
        return None
    try:
        return _parse(outbox_dir() / f"{name}.eml")
    except OSError:
        return None


def outbox_message_get(*, name: str, organization_id: int) -> OutboxMessage | None:
    mime = _load(name, organization_id)
    return None if mime is None else _summary(name, mime, with_body=True)


def outbox_attachment_get(*, name: str, index: int, organization_id: int) -> tuple[Attachment, bytes] | None:
    mime = _load(name, organization_id)
    if mime is None:
        return None
    parts = _attachment_parts(mime)
    if not 0 <= index < len(parts):
        return None
    part = parts[index]
    payload = part.get_payload(decode=True) or b""
    attachment = Attachment(
        index=index,
        filename=part.get_filename() or f"attachment-{index + 1}",
        content_type=part.get_content_type(),
        size=len(payload),
    )
    return attachment, payload
