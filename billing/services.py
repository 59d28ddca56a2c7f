"""The billing run and the daily contract-lifecycle check: the services other modules
call, gathered here from the modules that do the work.

| module | what it does |
|---|---|
| billing.runs | a run's lifecycle: start, resume, move its date, plan into chunks, execute, fail, finish |
| billing.chunks | billing one chunk of billing accounts: plan, store its invoices, record skips and failures |
| billing.stalled | runs that stand still: stalled chunks handed on, unclosed runs closed |
| billing.dispatch | delivering a finished run's invoices |
| billing.preview | the dry run: the preview screen and a recorded dry run |
| billing.contract_alerts | the daily contract-end and notice-deadline alerts, renewal quotes |

How a run goes (DESIGN.md section 4, "The billing run is idempotent"):

1. `billing_run_start` records a queued run (at most one queued/running run per
   organization: a partial unique index) and, after commit, hands it to Celery.
2. `billing_run_plan` (task `billing_run_task`) lists the billing accounts - end
   customers owning a billable folder - and cuts them into chunks; the chunk rows are
   the fan-out and make it idempotent.
3. `billing_chunk_execute` (task `billing_chunk_task`, one per chunk, on any worker)
   plans the chunk's invoices with the pure engine (billing.planning) and stores them
   in ONE transaction that holds the chunk row's lock throughout; every payer's invoice
   is atomic, so what the database refuses fails one payer only (billing.chunks).
4. `billing_run_finish` closes the run once no chunk is pending. A run that made no
   invoice and had no failure (the month run again) is done, so the scheduler counts
   the month as billed, but left out of the run list, and the start page says "nothing
   new to bill" instead of showing an empty run.

A worker killed in the middle loses its chunk's transaction (nothing of it is stored);
the task is redelivered, or the scheduler hands the stalled chunk on
(`billing_run_stalled_resume`), or the month is run again, and the engine bills exactly
what is still due: the union of both runs equals one clean run.

Decisions: payer data is checked before writing (documents.bulk.invoice_problem), so a
payer without billing address is a failure of its own invoice only. Holds, suspended
folders and billing-date overrides are skips; their periods are caught up by the first
run after (nothing is lost). Contract alerts (actions and renewal quotes) are raised by
a daily check (`contract_alerts_create`, from the daily beat task), not by the monthly
run, so a notice deadline mid-month is not noticed two weeks late.
"""

from __future__ import annotations

from .chunks import StaleOneOffs, billing_chunk_execute, billing_chunk_fail
from .contract_alerts import DEFAULT_ALERT_DAYS, contract_alerts_create
from .dispatch import billing_run_dispatch
from .preview import Preview, PreviewTotals, billing_preview, billing_preview_record
from .runs import (
    DEFAULT_CHUNK_SIZE,
    billing_run_as_of_set,
    billing_run_execute,
    billing_run_fail,
    billing_run_finish,
    billing_run_plan,
    billing_run_refused,
    billing_run_resume,
    billing_run_start,
    chunk_size,
    month_of,
    render_pdfs_default,
    run_failure,
)
from .stalled import billing_run_stalled_resume, billing_runs_stalled_resume, stale_after
from .system_texts import exception_text

__all__ = [
    "DEFAULT_ALERT_DAYS",
    "DEFAULT_CHUNK_SIZE",
    "Preview",
    "PreviewTotals",
    "StaleOneOffs",
    "billing_chunk_execute",
    "billing_chunk_fail",
    "billing_preview",
    "billing_preview_record",
    "billing_run_as_of_set",
    "billing_run_dispatch",
    "billing_run_execute",
    "billing_run_fail",
    "billing_run_finish",
    "billing_run_plan",
    "billing_run_refused",
    "billing_run_resume",
    "billing_run_start",
    "billing_runs_stalled_resume",
    "billing_run_stalled_resume",
    "chunk_size",
    "contract_alerts_create",
    "exception_text",
    "month_of",
    "render_pdfs_default",
    "run_failure",
    "stale_after",
]
