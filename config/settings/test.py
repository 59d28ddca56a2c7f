"""Test settings: fast hashers, in-memory mail, eager Celery, a throwaway media folder."""

from __future__ import annotations

import tempfile

from .base import *  # noqa: F403
from .base import env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_BROKER_URL = ""
CELERY_TASK_ALWAYS_EAGER = True
MEDIA_ROOT = tempfile.mkdtemp(prefix="backoffice-test-media-")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
LANGUAGE_CODE = "de"
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
