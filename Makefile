# mediacheck — the front door. `make run` and `make test` install what they need first.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export DEBIAN_FRONTEND := noninteractive

.PHONY: install system-deps redis postgres test-deps deploy-deps run test test-deploy lint bench bench-deep bench-scale schema clean

system-deps:
	@missing=""; \
	command -v ffprobe >/dev/null || missing="$$missing ffmpeg"; \
	$(PY) -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml | system-deps
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: system-deps $(STAMP)

# The test suite talks to a real Redis (a spare database number per test module). Start one when none answers.
redis:
	@if ! (command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG); then \
	  command -v redis-server >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq redis-server >/dev/null; }; \
	  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null; \
	  for i in 1 2 3 4 5 6 7 8 9 10; do redis-cli -h 127.0.0.1 ping 2>/dev/null | grep -q PONG && break; sleep 0.5; done; \
	fi

# The PostgreSQL tests connect as postgres@127.0.0.1:$(PG_PORT) without a password and use (or create) the
# database `test` (MEDIACHECK_TEST_PG). When nothing answers there: install PostgreSQL if missing, make a
# cluster `mediacheck-test` on that port that trusts local connections (or, when a cluster of that port
# exists but is down, let postgres in from 127.0.0.1 alone), and start it.
PG_PORT ?= 5432
postgres:
	@command -v pg_isready >/dev/null || { echo "installing: postgresql-client"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql-client >/dev/null; }
	@if ! pg_isready -q -h 127.0.0.1 -p $(PG_PORT) 2>/dev/null; then \
	  command -v pg_ctlcluster >/dev/null || { echo "installing: postgresql"; \
	    $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql >/dev/null; }; \
	  ver=$$(ls /usr/lib/postgresql | sort -V | tail -n1); \
	  pg_lsclusters -h | awk '{print $$3}' | grep -qx $(PG_PORT) || \
	    $(SUDO) pg_createcluster -p $(PG_PORT) $$ver mediacheck-test -- --auth-host=trust --auth-local=trust >/dev/null; \
	  set -- $$(pg_lsclusters -h | awk '$$3 == $(PG_PORT) {print $$1, $$2; exit}'); \
	  hba=/etc/postgresql/$$1/$$2/pg_hba.conf; \
	  $(SUDO) grep -q 'mediacheck-test' $$hba || \
	    $(SUDO) sed -i '1i host all postgres 127.0.0.1/32 trust  # mediacheck-test: make postgres' $$hba; \
	  echo "starting PostgreSQL $$1/$$2 on 127.0.0.1:$(PG_PORT)"; \
	  $(SUDO) pg_ctlcluster $$1 $$2 start; \
	  for i in $$(seq 1 20); do pg_isready -q -h 127.0.0.1 -p $(PG_PORT) && break; sleep 0.5; done; \
	fi
	@psql -h 127.0.0.1 -p $(PG_PORT) -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
	  || createdb -h 127.0.0.1 -p $(PG_PORT) -U postgres test

run: install
	$(BIN)/mediacheck migrate
	$(BIN)/mediacheck serve --host 127.0.0.1 --port 8000

# The page tests drive Debian's Chromium (headless); only `make test` needs it,
# and tus-js-client (npm), the reference browser client of the tus protocol.
test-deps:
	@missing=""; command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi
	@[ -d tests/browser/node_modules/tus-js-client ] || npm ci --prefix tests/browser --no-audit --no-fund --silent

# `make test` runs everything but the deployment (the image and the compose file: `make test-deploy`).
# Under CI=true (.ci/run) a test skipped for a part these targets install fails (tests/support/ci_skips.py).
test: install redis postgres test-deps
	$(BIN)/python -m pytest -m "not container"

# The deployment: podman with the local base image (scripts/podman-setup.sh, docs/operations-container.md)
# and docker-compose (checks docker-compose.yml; no engine needed).
deploy-deps:
	scripts/podman-setup.sh
	@command -v docker-compose >/dev/null || { echo "installing: docker-compose"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq docker-compose >/dev/null; }

test-deploy: install deploy-deps
	$(BIN)/python -m pytest -m container tests/test_container.py tests/test_compose.py

lint: install
	$(BIN)/ruff check service workers tests benchmarks
	$(BIN)/mypy

# The speed benchmarks compare against MediaConch (Debian's mediaconch package).
bench-deps:
	@command -v mediaconch >/dev/null || { echo "installing: mediaconch"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq mediaconch >/dev/null; }

bench: install bench-deps
	$(BIN)/python benchmarks/bench_check.py

bench-deep: install
	$(BIN)/python benchmarks/bench_deep.py --rounds 3

schema: install
	$(BIN)/python -m service.core.report > docs/report.schema.json

# The deployable image (docs/operations-container.md). podman needs scripts/podman-setup.sh once.
CONTAINER ?= $(shell command -v podman >/dev/null && echo podman || echo docker)
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
CA_SECRET := --secret id=build-ca,src=$(CA_BUNDLE)
.PHONY: image
image:
	$(CONTAINER) build $(if $(filter podman,$(CONTAINER)),--pull=never --format docker) \
	  $(if $(wildcard $(CA_BUNDLE)),$(CA_SECRET)) -t mediacheck .

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache

.PHONY: bench-batch bench-deps
bench-batch: install bench-deps
	$(BIN)/python benchmarks/bench_batch.py speed
	$(BIN)/python benchmarks/bench_batch.py memory

# Issue 14: a campaign cloned to 1k/10k/50k entries, SQLite and PostgreSQL (needs a PostgreSQL on 127.0.0.1:5432).
.PHONY: bench-scale
bench-scale: install
	$(BIN)/python benchmarks/bench_scale.py --json .cache/bench-scale.json
