"""`make run` behaves like production: without a broker URL its processes (LOCAL_WORKER=1)
share kombu's filesystem broker and a real worker does the work; everything else without
a broker, the tests above all, runs its tasks inline."""

from __future__ import annotations

import runpy
import sqlite3
import subprocess
import sys
import time

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from billing.services import billing_run_start
from tests.billing import factories as f

SETTINGS_VARIABLES = ("CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "LOCAL_WORKER", "CELERY_LOCAL_DIR")


def base_settings(monkeypatch, tmp_path, **environment) -> dict:
    """config/settings/base.py evaluated afresh under `environment`."""
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CELERY_LOCAL_DIR", str(tmp_path / "celery"))
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(settings.BASE_DIR / "config" / "settings" / "base.py"))


def test_it_runs_tasks_inline_without_a_broker(monkeypatch, tmp_path):
    values = base_settings(monkeypatch, tmp_path)
    assert values["CELERY_BROKER_URL"] == ""
    assert values["CELERY_TASK_ALWAYS_EAGER"] is True


def test_it_gives_make_run_a_filesystem_broker_in_the_project(monkeypatch, tmp_path):
    values = base_settings(monkeypatch, tmp_path, LOCAL_WORKER="1")
    assert values["CELERY_BROKER_URL"].startswith("filesystem://")
    assert values["CELERY_TASK_ALWAYS_EAGER"] is False
    options = values["CELERY_BROKER_TRANSPORT_OPTIONS"]
    queue = tmp_path / "celery" / "queue"
    assert options["data_folder_in"] == options["data_folder_out"] == str(queue)
    assert queue.is_dir() and (tmp_path / "celery" / "processed").is_dir()


def test_it_keeps_a_configured_broker_under_make_run(monkeypatch, tmp_path):
    values = base_settings(
        monkeypatch, tmp_path, LOCAL_WORKER="1", CELERY_BROKER_URL="redis://127.0.0.1:6379/0"
    )
    assert values["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/0"
    assert values["CELERY_TASK_ALWAYS_EAGER"] is False
    # Redis keeps its own transport options (the visibility timeout), none of the folders.
    assert "data_folder_in" not in values["CELERY_BROKER_TRANSPORT_OPTIONS"]
    assert values["CELERY_BROKER_TRANSPORT_OPTIONS"]["visibility_timeout"] == 900


def test_it_keeps_the_tests_eager_whatever_the_environment(tmp_path):
    # A process of its own: the test settings import the base settings, already loaded here.
    environment = {
        "PATH": "/usr/bin:/bin",
        "LOCAL_WORKER": "1",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "CELERY_LOCAL_DIR": str(tmp_path / "celery"),
    }
    code = (
        "from config.settings import test; print(test.CELERY_TASK_ALWAYS_EAGER, repr(test.CELERY_BROKER_URL))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["True", "''"]


def test_it_lets_the_web_server_and_the_worker_write_sqlite_at_once(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    options = base_settings(monkeypatch, tmp_path)["DATABASES"]["default"]["OPTIONS"]
    assert "journal_mode=WAL" in options["init_command"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 10


def _wait_for_run(db_file, run_id: int, seconds: float) -> tuple[str, int]:
    deadline = time.monotonic() + seconds
    status, invoices = "", 0
    while time.monotonic() < deadline:
        time.sleep(0.3)
        with sqlite3.connect(db_file, timeout=5) as db:
            status, invoices = db.execute(
                "SELECT status, invoices_count FROM billing_billingrun WHERE id = ?", [run_id]
            ).fetchone()
        if status not in ("pending", "running"):
            break
    return status, invoices


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_the_filesystem_broker_bills_the_month(org, tmp_path):
    """What `make run` does: a `celery worker` process on the filesystem broker, a file
    SQLite database, the run handed over by a message in the queue folder."""
    if connection.vendor != "sqlite":
        pytest.skip("the worker process needs a SQLite file of the test database")
    month = timezone.localdate().replace(day=1)
    for n in range(3):
        folder = f.folder(org, f.customer(org, name=f"Kunde {n}"))
        f.recurring(folder, price="10.00", start=month)
    run = billing_run_start(organization=org, period=month, user=None, render_pdfs=False, dispatch=False)

    # The test database lives in memory; the worker gets a copy of it as a file.
    db_file = tmp_path / "db.sqlite3"
    with sqlite3.connect(db_file) as copy:
        connection.ensure_connection()
        connection.connection.backup(copy)
    queue_dir = tmp_path / "celery"
    environment = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": f"sqlite:///{db_file}",
        "LOCAL_WORKER": "1",
        "CELERY_LOCAL_DIR": str(queue_dir),
        "EMAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-l", "warning"]
        + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=settings.BASE_DIR,
        env=environment,
    )
    try:
        # The web server's side: publish on the same folders (an app of its own, so the
        # eager app of the tests stays as it is).
        producer = Celery(
            "web",
            broker="filesystem://localhost//",
            broker_transport_options={
                "data_folder_in": str(queue_dir / "queue"),
                "data_folder_out": str(queue_dir / "queue"),
                "control_folder": str(queue_dir),
            },
        )
        (queue_dir / "queue").mkdir(parents=True, exist_ok=True)
        producer.send_task("billing.tasks.billing_run_task", args=[run.pk, org.pk])
        status, invoices = _wait_for_run(db_file, run.pk, seconds=60)
        assert worker.poll() is None, "the worker stopped"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert (status, invoices) == ("done", 3)
    assert not list((queue_dir / "queue").iterdir()), "every message was taken"
