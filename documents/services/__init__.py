"""Every write to documents, one module per job; the names callers use, in one place."""

from documents.services.drafts import *  # noqa: F403
from documents.services.drafts import ValidationError  # noqa: F401
