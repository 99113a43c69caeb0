# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run test lint bench-inbox bench-strategy bench-reports bench-triage bench-calendar bench-load train-models clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt $(VENV)/.runtime
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py collectstatic --noinput --verbosity 0
	bash scripts/run-dev.sh

test: $(VENV)/.dev
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/socialops_bench_inbox

# Ingest throughput and inbox list latency on PostgreSQL, each next to a baseline
# measured in the same run; ends with one JSON line. Never gates on wall time.
bench-inbox: $(VENV)/.runtime
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/bench_inbox.py $(BENCH_ARGS)

BENCH_STRATEGY_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/socialops_bench_strategy

# Every computed KPI of an objective covering all accounts over 90 days at 1,000,000 messages, next to
# the same aggregates as bare SQL in the same run; ends with one JSON line. Never gates on wall time.
bench-strategy: $(VENV)/.runtime
	DATABASE_URL=$(BENCH_STRATEGY_DATABASE_URL) $(PY) bench/bench_strategy.py $(BENCH_ARGS)

BENCH_REPORTS_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/socialops_bench_reports

# The whole reputation report of the organisation over 90 days at 1,000,000 messages, next to its statements
# run as bare SQL in the same run, plus the page and the PDF; ends with one JSON line. Never gates on wall time.
bench-reports: $(VENV)/.runtime
	DATABASE_URL=$(BENCH_REPORTS_DATABASE_URL) $(PY) bench/bench_reports.py $(BENCH_ARGS)

# The current triage engine on the hand-written evaluation set (bench/triage_data/eval.jsonl: intent, sensitive,
# language, routing) and on the val splits in $$SOCIALOPS_DATASETS (default ../shared/datasets: sentiment,
# offensive), plus throughput; in-memory SQLite, no server. Ends with one JSON line. Never gates CI.
bench-triage: $(VENV)/.runtime
	$(PY) bench/bench_triage.py $(BENCH_ARGS)

# Rebuilds inbox/models_data/ (sentiment per language, offensive) from the train splits in $$SOCIALOPS_DATASETS
# (default ../shared/datasets) and prints the val figures; see docs/MODEL_CARD.md.
train-models: $(VENV)/.runtime
	$(PY) manage.py train_models

BENCH_CALENDAR_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/socialops_bench_calendar

# The calendar's month view with 10,000 posts across 20 accounts (queries fixed, against bare SQL in the same
# run) and the publisher publishing 1,000 due posts to a local fake Mastodon server exactly once each (against a
# bare HTTP loop in the same run); ends with one JSON line. Never gates on wall time.
bench-calendar: $(VENV)/.runtime
	DATABASE_URL=$(BENCH_CALENDAR_DATABASE_URL) $(PY) bench/bench_calendar.py $(BENCH_ARGS)

BENCH_LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/socialops_bench_load

# Agents, bulk ingest and signed webhooks at 10, 50 and 100 users (locust, headless) against
# gunicorn (gthread) + a qcluster on PostgreSQL; ends with one JSON line. Never gates on wall time.
bench-load: $(VENV)/.dev
	DATABASE_URL=$(BENCH_LOAD_DATABASE_URL) $(PY) bench/bench_load.py

clean:
	rm -rf $(VENV) var/static
