# VAULTA: `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py

.PHONY: run test serve lint format install install-dev clean bench

# The virtualenv with runtime dependencies; reinstalled when requirements.txt changes.
# WeasyPrint's Debian libraries are installed too when missing (.ci/weasyprint-libs).
$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	.ci/weasyprint-libs $(BIN)/python
	touch $@

# Test and lint tools on top.
$(BIN)/.installed-dev: requirements-dev.txt $(BIN)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed
install-dev: $(BIN)/.installed-dev

## run: migrate, seed demo data into an empty database, serve on http://127.0.0.1:5000
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask vaulta seed-demo --if-empty
	@echo "VAULTA on http://127.0.0.1:5000 (Ctrl-C stops it)"
	$(BIN)/flask run --host 127.0.0.1 --port 5000

## test: the whole suite (PostgreSQL too when VAULTA_TEST_DATABASE_URL is set)
test: install-dev
	$(BIN)/pytest

## serve: gunicorn with gunicorn.conf.py, as in production (set VAULTA_CONFIG, SECRET_KEY,
## DATABASE_URL; GUNICORN_BIND, WEB_CONCURRENCY … see docs/deploy.md)
serve: install
	$(BIN)/flask db upgrade
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

## bench: SQLite and PostgreSQL at scale (100k customers, 1M transactions) next to a bare
## Flask ceiling and pgbench; needs wrk and BENCH_POSTGRES_URL (see bench/RESULTS.md)
bench: install-dev
	$(BIN)/python -m bench.run

## lint: formatting and lint checks
lint: install-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
