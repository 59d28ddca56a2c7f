"""Settings for every environment, driven by environment variables (django-environ).

The defaults give a newcomer a working back office with no services at all:
SQLite in the project folder, and under `make run` a Celery worker on kombu's
filesystem broker in var/celery/ (other commands without a broker run their tasks
inline). Real deployments set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis).
"""

from __future__ import annotations

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-development-key-change-me")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tables2",
    "django_filters",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "organizations",
    "customers",
    "catalog",
    "folders",
    "financing",
    "documents",
    "billing",
    "payments",
    "portal",
    "tickets",
    "reports",
    "dashboard",
    "demo",
    "bench",
    "devtools",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # One session cookie for the back office, another for the customer portal.
    "portal.sessions.SplitSessionMiddleware",
    "organizations.locale.DefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "organizations.middleware.ActiveOrganizationMiddleware",
    # Inside the organization's scope, so the page can render the usual layout.
    "organizations.errors.MethodNotAllowedPageMiddleware",
    # Axes must be last: it inspects the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "organizations.context_processors.organization",
                "devtools.context_processors.devtools",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the Celery worker write the same file at once. WAL lets readers
    # go on while one process writes (the run page polls while the worker bills), the
    # timeout makes a writer wait for the lock instead of failing, and IMMEDIATE takes
    # the write lock when a transaction begins: a transaction that read first and only
    # later wants to write cannot wait for the lock (SQLite answers "database is locked"
    # at once), so it must hold it from the start.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Portal contacts log in with their e-mail address (portal.backends).
    "portal.backends.PortalEmailBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
PORTAL_SESSION_COOKIE_NAME = "portal_sessionid"
# How long the link of a portal invitation may be used to set the first password.
PORTAL_INVITATION_DAYS = env.int("PORTAL_INVITATION_DAYS", default=7)
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Failed logins are throttled per user name and address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True

# Optional two-factor login (organizations/two_factor.py). Every wrong code doubles the
# wait before the device accepts the next one (1, 2, 4 ... seconds): a six-digit code
# cannot be guessed by trying. The factor must stay above 0, which would switch it off.
OTP_TOTP_THROTTLE_FACTOR = 1
# How long the password step stays valid while the user types the code.
TWO_FACTOR_PENDING_SECONDS = 300

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("Deutsch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
FORMAT_MODULE_PATH = ["config.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_BACKEND", default="whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Without a mail server every message lands as an .eml file in the outbox folder, which
# admins read on the "Sent e-mails" page while DEBUG is on (devtools/).
EMAIL_BACKEND = env("EMAIL_BACKEND", default="devtools.mail.OutboxEmailBackend")
EMAIL_OUTBOX_DIR = Path(env.path("EMAIL_OUTBOX_DIR", default=BASE_DIR / "var" / "outbox"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="backoffice@localhost")
# SMTP (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend). The timeout keeps a
# mail server that does not answer from holding a worker: the send fails and is retried.
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# An e-mail service's API through django-anymail, e.g.
# EMAIL_BACKEND=anymail.backends.postmark.EmailBackend ANYMAIL='{"POSTMARK_SERVER_TOKEN": "..."}'
# (the keys of each service are in anymail's documentation).
ANYMAIL = env.json("ANYMAIL", default={})
# Where the customer portal is reached from outside: links in notification e-mails.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# A billing chunk takes seconds (README, "Performance"); its hard time limit only bounds
# one that hangs. Redis hands an unacknowledged message to another worker after the
# visibility timeout: it must outlast the longest chunk (or a live chunk would be
# delivered twice), but not by the broker's default hour - a worker killed mid-chunk is
# noticed by its chunk's heartbeat anyway (BILLING_CHUNK_STALE_AFTER, checked every
# five minutes by "billing-stalled"), and the chunk handed on without anyone clicking.
BILLING_CHUNK_TIME_LIMIT = env.int("BILLING_CHUNK_TIME_LIMIT", default=600)
BILLING_CHUNK_STALE_AFTER = env.int("BILLING_CHUNK_STALE_AFTER", default=BILLING_CHUNK_TIME_LIMIT + 60)

# Celery. A broker URL (Redis in production) means workers run the tasks. Without one,
# `make run`, `make worker` and `make beat` set LOCAL_WORKER=1 for every process they
# start: these then share kombu's filesystem transport, a broker that is just folders
# under var/celery/ and needs no server, so the web server answers at once and the
# worker does the long work as in production. Any other process without a broker (a
# one-off management command, the tests) runs its tasks inline (eager), because no
# worker may be there to take them.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": BILLING_CHUNK_TIME_LIMIT + 300}
CELERY_LOCAL_DIR = Path(env.path("CELERY_LOCAL_DIR", default=BASE_DIR / "var" / "celery"))
if not CELERY_BROKER_URL and env.bool("LOCAL_WORKER", default=False):
    CELERY_BROKER_URL = "filesystem://localhost//"  # a host name, or kombu warns of its absence
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _folder in ("queue", "processed"):
        (CELERY_LOCAL_DIR / _folder).mkdir(parents=True, exist_ok=True)
    # Producers and consumers read and write the same folder: one queue on this machine.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_LOCAL_DIR / "queue"),
        "data_folder_out": str(CELERY_LOCAL_DIR / "queue"),
        "control_folder": str(CELERY_LOCAL_DIR),
        # A consumer claims a message by moving it out of the queue; into a folder on the
        # same file system that move is an atomic rename (the default, the system's temp
        # folder, may be a copy). scripts/run.sh empties it at each start.
        "store_processed": True,
        "processed_folder": str(CELERY_LOCAL_DIR / "processed"),
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# No result backend: nothing waits for a task's return value; a billing run's progress
# is read from its rows (BillingRun, BillingRunChunk).
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # Contract ends of auto-renewed folders move forward before anything reads them.
    "folders-contract-ends": {
        "task": "folders.tasks.refresh_contract_ends",
        "schedule": crontab(hour=3, minute=0),
    },
    # Every morning: contract-end alerts, and each organization's run on its billing day.
    "billing-daily": {"task": "billing.tasks.billing_beat_task", "schedule": crontab(hour=3, minute=30)},
    # Runs whose worker died mid-chunk are handed on (idempotent; see billing.tasks).
    "billing-stalled": {"task": "billing.tasks.billing_stalled_task", "schedule": crontab(minute="*/5")},
    # SEPA mandates unused for 36 months lapse.
    "payments-mandates-expire": {
        "task": "payments.tasks.mandates_expire_task",
        "schedule": crontab(hour=2, minute=45),
    },
}

# Every list in the same look, with the one pagination bar (partials/_pagination.html).
DJANGO_TABLES2_TEMPLATE = "partials/_table.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
        "celery": {"level": "WARNING"},
    },
}

# Support ticket attachments: the largest file accepted (bytes) and how many per message.
TICKET_ATTACHMENT_MAX_BYTES = env.int("TICKET_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
TICKET_ATTACHMENT_MAX_FILES = env.int("TICKET_ATTACHMENT_MAX_FILES", default=5)
