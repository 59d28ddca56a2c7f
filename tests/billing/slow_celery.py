"""The project's Celery app for tests/billing/test_worker_killed.py, with chunks that
dawdle: with BILLING_TEST_SLOW_CHUNK set, a chunk sleeps that many seconds after
planning - inside its transaction, its row locked - having touched the file named by
BILLING_TEST_CHUNK_STARTED, so the test knows when to kill the worker."""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery.signals import task_prerun

from config.celery import app

__all__ = ["app"]


@task_prerun.connect
def _dawdle(**kwargs) -> None:
    seconds = float(os.environ.get("BILLING_TEST_SLOW_CHUNK") or 0)
    from billing import chunks

    if not seconds or getattr(chunks._plan, "dawdles", False):
        return
    plan = chunks._plan

    def slow_plan(*args, **kw):
        result = plan(*args, **kw)
        Path(os.environ["BILLING_TEST_CHUNK_STARTED"]).touch()
        time.sleep(seconds)
        return result

    slow_plan.dawdles = True
    chunks._plan = slow_plan
