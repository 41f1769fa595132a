# mediacheck — the front door. `make run` and `make test` install what they need first.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export DEBIAN_FRONTEND := noninteractive

.PHONY: install system-deps run test lint bench schema clean

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

run: install
	$(BIN)/mediacheck profiles

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check service workers tests benchmarks
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/bench_check.py

schema: install
	$(BIN)/python -m service.report > docs/report.schema.json

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache

.PHONY: bench-batch
bench-batch: install
	$(BIN)/python benchmarks/bench_batch.py speed
	$(BIN)/python benchmarks/bench_batch.py memory
