#!/usr/bin/env bash
# `make run`: the web server with a Celery worker beside it, as in production.
#
# Without CELERY_BROKER_URL the worker and the web server share kombu's filesystem
# broker under var/celery/ (LOCAL_WORKER=1, see config/settings/base.py); with a Redis
# URL they use Redis. The worker also runs the beat scheduler (the daily billing run and
# contract alerts, CELERY_BEAT_SCHEDULE), so nothing else needs starting.
#
# The worker runs in a session of its own, so Ctrl-C reaches only the web server; when
# the web server stops for any reason, the EXIT trap sends the worker SIGTERM (a warm
# shutdown: the task in hand is finished first) and waits for it.
#
# --pool=solo: one task at a time in the worker process itself. SQLite lets one process
# write at a time, so a second worker process would mostly wait for the lock, and with
# no forked children nothing is left behind when the worker stops.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PY:-.venv/bin/python}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
export LOCAL_WORKER=1

mkdir -p var/celery/processed
# Messages the worker took in earlier sessions (kept only so a claim is a rename).
find var/celery/processed -type f -delete

worker_pid=""
stop_worker() {
  if [ -n "$worker_pid" ] && kill -0 "$worker_pid" 2>/dev/null; then
    echo "Stopping the Celery worker (finishing the task in hand) ..."
    kill -TERM "$worker_pid" 2>/dev/null || true
    wait "$worker_pid" 2>/dev/null || true
  fi
}
trap stop_worker EXIT
trap 'exit 0' INT  # Ctrl-C is how one stops it: not an error for make
trap 'exit 143' TERM

setsid "$PY" -m celery -A config worker --pool=solo --beat --schedule var/celery/beat-schedule \
  --concurrency 1 --without-gossip --without-mingle -l info </dev/null &
worker_pid=$!

echo ""
echo "  Back office:  http://$HOST:$PORT/"
echo "  Demo login:   admin / demo-admin-2026   (also: billing, sales, support, readonly with password demo-<role>-2026)"
echo "  Tasks:        a Celery worker with beat, pid $worker_pid (its banner names the broker:"
echo "                filesystem:// is var/celery/, set CELERY_BROKER_URL for Redis)"
echo "  E-mails:      written to var/outbox/, readable under \"Sent e-mails\" in the user menu"
echo ""
"$PY" manage.py runserver "$HOST:$PORT"
