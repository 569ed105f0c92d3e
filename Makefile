# Bastion: build, lint, type-check and test.
#
#   make test    everything CI runs (venv, system packages, lint, mypy, pytest)
#   make demo    the demo: var/demo.db with demo data, served on http://127.0.0.1:8069
#
# Tools are called as .venv/bin/... : no activation needed.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Touched once `pip install -e '.[test]'` succeeded; rebuilt when pyproject.toml changes.
STAMP  := $(VENV)/.bastion-installed

# System packages Bastion and its test suite need, as `tool:debian-package` pairs. A tool
# counts as present when it is on PATH or under /usr/lib/postgresql/*/bin (Debian keeps
# initdb there); a shared library (`libcairo.so.2`, for PNG heat maps) when it is under
# /usr/lib/*/ (Debian's multiarch folders). To add more later, extend this one line, e.g.:
#   SYSTEM_DEPS := initdb:postgresql redis-server:redis-server chromium:chromium
SYSTEM_DEPS ?= initdb:postgresql redis-server:redis-server chromium:chromium libcairo.so.2:libcairo2

PYTEST_ARGS ?=
# pytest-xdist workers (each starts its own PostgreSQL and Redis); --dist loadscope keeps
# a module on one worker, so its module-scoped databases are built once.
TEST_WORKERS ?= 2

.PHONY: .venv system-deps lint typecheck test demo bench format clean distclean

# --- environment ----------------------------------------------------------------

.venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

system-deps:
	@missing=""; \
	for dep in $(SYSTEM_DEPS); do \
	  tool="$${dep%%:*}"; pkg="$${dep#*:}"; \
	  if command -v "$$tool" >/dev/null 2>&1 \
	     || compgen -G "/usr/lib/postgresql/*/bin/$$tool" >/dev/null \
	     || compgen -G "/usr/lib/*/$$tool" >/dev/null; then \
	    continue; \
	  fi; \
	  missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "error: missing system packages:$$missing" >&2; \
	  echo "       install them (sudo apt-get install -y --no-install-recommends$$missing)" >&2; \
	  echo "       or run 'make system-deps' as root." >&2; \
	  exit 1; \
	fi; \
	echo "system-deps: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq; \
	apt-get install -y -qq --no-install-recommends $$missing

# --- checks ---------------------------------------------------------------------

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

test: .venv system-deps lint typecheck
	$(BIN)/pytest -p no:cacheprovider -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

format: $(STAMP)
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

# --- demo and benchmarks --------------------------------------------------------

demo: $(STAMP)
	$(BIN)/bastion demo

bench: $(STAMP)
	@if [ -f bench/run.py ]; then \
	  $(BIN)/python bench/run.py; \
	else \
	  echo "bench: no bench/run.py yet"; \
	fi

# --- housekeeping ---------------------------------------------------------------

clean:
	rm -rf .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) var
