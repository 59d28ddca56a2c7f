"""An e-mail backend that writes each message as an .eml file into the outbox folder.

Django's own file backend appends every message of a connection to one .log file, which
cannot be opened in a mail program and hides the attachments in a wall of base64. Here
each message is one RFC 5322 file (`settings.EMAIL_OUTBOX_DIR`), named so that names sort
by time, written under a temporary name and renamed, so a reader never sees half a file.
The organization whose scope sent it goes into the file name and a header of the stored
copy (never into mail that leaves), so the outbox page can show each organization its own
mail.
"""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from django_scopes import get_scope

ORGANIZATION_HEADER = "X-Backoffice-Organization"


def outbox_dir() -> Path:
    return Path(settings.EMAIL_OUTBOX_DIR)


class OutboxEmailBackend(BaseEmailBackend):
    def __init__(self, *args, file_path: str | os.PathLike | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.folder = Path(file_path) if file_path else outbox_dir()
        self._lock = threading.RLock()

    def send_messages(self, email_messages) -> int:
        if not email_messages:
            return 0
        sent = 0
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            for message in email_messages:
                if not message.recipients():
                    continue
                try:
                    self._write(message)
                except OSError:
                    if not self.fail_silently:
                        raise
                    continue
                sent += 1
        return sent

    def _write(self, message) -> None:
        mime = message.message()
        if message.bcc:
            # A mail server never shows Bcc; the stored copy does, so the outbox shows
            # everyone the message went to.
            mime["Bcc"] = ", ".join(message.bcc)
        organization = get_scope().get("organization")
        owner = organization.pk if organization is not None else 0
        if organization is not None:
            mime[ORGANIZATION_HEADER] = str(owner)
        # The owner is in the name too, so the outbox page lists an organization's mail
        # without parsing everyone else's.
        name = f"{timezone.now():%Y%m%d-%H%M%S-%f}-{uuid.uuid4().hex[:8]}-{owner}"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(mime.as_bytes(linesep="\r\n"))
        partial.rename(self.folder / f"{name}.eml")
