# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

SYSTEM_CHECK := $(PYTHON) scripts/system_check.py

.PHONY: run test test-fast einvoice-rules install migrate demo lint format messages bench clean worker beat

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c requirements.lock -e '.[dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	@$(SYSTEM_CHECK) run
	$(PY) manage.py seed_demo

# The web server, and beside it a Celery worker (with beat) that stops with it.
run: demo
	@PY=$(PY) HOST=$(HOST) PORT=$(PORT) scripts/run.sh

# The EN 16931 / XRechnung validation stylesheets the e-invoice tests run.
einvoice-rules: install
	PY=$(PY) scripts/fetch_einvoice_rules.sh

test: install einvoice-rules
	@$(SYSTEM_CHECK) test
	$(VENV)/bin/pytest -n 2 --dist loadgroup

# The quick inner loop: everything but the demo seed, benchmarks, query counts, PDF layout
# and the page walks (marked `slow`); `make test` still runs them.
test-fast: install einvoice-rules
	$(VENV)/bin/pytest -n 2 --dist loadgroup -m "not slow"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: install
	scripts/messages.sh

# Without CELERY_BROKER_URL these use the same filesystem broker as `make run`.
worker: install
	LOCAL_WORKER=1 $(VENV)/bin/celery -A config worker -l info

beat: install
	LOCAL_WORKER=1 $(VENV)/bin/celery -A config beat -l info --schedule var/celery/beat-schedule

bench: install
	$(PY) manage.py bench_pdf --n 50
	$(PY) manage.py bench_einvoice --n 50
	$(PY) manage.py bench_lists --help >/dev/null && echo "lists:   $(PY) manage.py bench_lists --folders 100000   (with DATABASE_URL on PostgreSQL)"
	@echo "billing: $(PY) manage.py bench_billing --customers 20000   (with DATABASE_URL on PostgreSQL)"

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm media staticfiles var
