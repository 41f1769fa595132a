# mediacheck — the front door. `make run` and `make test` install what they need first.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export DEBIAN_FRONTEND := noninteractive

.PHONY: install system-deps test-deps run test lint bench schema clean

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

test: install test-deps
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
