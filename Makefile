# Switchyard — `make run` starts the app with demo workflows, `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/switchyard
REDIS ?= redis://127.0.0.1:6379/0
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench soak setup frontend services chromium clean apicheck

$(VENV)/.installed: pyproject.toml constraints.txt
	@test -x $(PY) || "$$(scripts/find_python.sh)" -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $@

setup: $(VENV)/.installed frontend

# The canvas is built into static/ only when a source changed since the last build (a second
# `make run` starts at once); its packages are installed only when the lockfile changed.
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
  $(wildcard frontend/index.html frontend/vite.config.ts frontend/tsconfig*.json frontend/package.json)

frontend: static/index.html

static/index.html: frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	cd frontend && npm run build

services:
	@scripts/ensure_services.sh

chromium:
	@scripts/ensure_chromium.sh

run: setup
	@$(PY) manage.py serve --demo --host $(HOST) --port $(PORT)

test: setup services chromium
	@if [ -f frontend/package.json ]; then cd frontend && npm run typecheck && npm test; fi
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) $(PY) -m pytest

lint: $(VENV)/.installed frontend/node_modules/.package-lock.json
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	cd frontend && npm run typecheck && npm run lint && npm run format:check

# the front end's tools, installed from the lockfile when it changes (no build)
frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

# The OpenAPI description against the API: schemathesis, all checks, every operation and its
# stateful links, on a throw-away database (make test runs a short version).
apicheck: $(VENV)/.installed services
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) $(PY) scripts/apicheck.py

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup services
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) $(PY) -m bench

# Steady load for a long time, worker kills included: `make soak SOAK_MINUTES=5`.
SOAK_MINUTES ?= 30
SOAK_RATE ?= 20
SOAK_KILL_S ?= 60
soak: $(VENV)/.installed services
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) $(PY) -m bench.soak \
	  --minutes $(SOAK_MINUTES) --rate $(SOAK_RATE) --kill-every $(SOAK_KILL_S)

clean:
	rm -rf $(VENV) static/assets static/index.html frontend/node_modules
