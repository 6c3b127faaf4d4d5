# Two entry points that work on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
# Reinstall when the pins change.
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: serve test lint typecheck unit install interop clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -c constraints.txt -e .
	touch $@

$(DEV_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -c constraints.txt -e '.[dev]'
	touch $@ $(RUNTIME_STAMP)

install: $(RUNTIME_STAMP)

# Third-party servers for tests/interop, installed under .cache/interop by interop/setup.sh,
# which writes each stamp last.
INTEROP := .cache/interop
PDS_STAMP := $(INTEROP)/.pds-installed
MASTODON_STAMP := $(INTEROP)/.mastodon-installed
AXE_STAMP := $(INTEROP)/.axe-installed

$(PDS_STAMP): interop/package.json interop/package-lock.json interop/setup.sh
	bash interop/setup.sh pds

$(MASTODON_STAMP): interop/mastodon-mock-constraints.txt interop/setup.sh
	PYTHON=$(PYTHON) bash interop/setup.sh mastodon

$(AXE_STAMP): interop/axe/package.json interop/axe/package-lock.json interop/setup.sh
	bash interop/setup.sh axe

## interop: install the Bluesky PDS (Node 22) and mastodon-mock that the interop tests run,
## and axe-core for the dashboard's accessibility checks.
interop: $(PDS_STAMP) $(MASTODON_STAMP) $(AXE_STAMP)

## serve: set up and start Herald on its embedded default (SQLite, local data dir).
serve: $(RUNTIME_STAMP)
	$(BIN)/herald serve

## test: set up and run ruff, mypy, the import contracts and the whole suite.
# mypy runs beside the suite: the suite leaves part of the two cores idle while it waits.
test: lint
	$(MAKE) --no-print-directory -j2 typecheck unit

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

# The suite over two worker processes, a test file to each at a time (pytest-xdist): most tests
# wait on servers and child processes, so one process keeps a core idle; whole files keep their
# module fixtures (servers, simulators) to one worker. Each worker has its own databases.
unit: $(DEV_STAMP) interop
	$(BIN)/pytest -n 2 --dist loadfile --durations=25

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .hypothesis $(INTEROP)
