# fedgroups: every target works on a fresh clone with Python 3.11 and make; .venv is made here.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
NODE_PEERS := conformance/peers/fedify conformance/peers/fedify2
# `make test` runs the PostgreSQL tier too when this server answers (a throwaway database is
# created for the run and dropped after it). Set it empty to run the SQLite tier only.
FEDGROUPS_TEST_POSTGRES ?= postgres://postgres@127.0.0.1:5432/postgres
export FEDGROUPS_TEST_POSTGRES

TEST_PROCESSES ?= 2

LINT_PATHS := $(wildcard fedgroups tests conformance bench)

.PHONY: run test bench bench-smoke lint format migrations peers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed-run

## run: migrate an embedded SQLite database, create a first group, serve on 127.0.0.1:8000
run: $(VENV)/.installed-run
	$(BIN)/fedgroups migrate
	$(BIN)/fedgroups group create welcome --name "Welcome circle" --exist-ok \
		--summary "A first group to look around in. Say hello by mentioning @welcome."
	exec $(BIN)/fedgroups serve

## test: the whole suite (SQLite, plus PostgreSQL when reachable; independent peers when installed)
##       TEST_PROCESSES=N runs it in N processes (default 2; 0 runs it in this one), a test file
##       per process at a time: most of the suite waits on real servers, not on the CPU
test: $(VENV)/.installed-dev peers
	$(BIN)/pytest $(if $(filter 0,$(TEST_PROCESSES)),,-n $(TEST_PROCESSES) --dist loadfile)

## bench: the benchmark table, SQLite and PostgreSQL, against its targets (docs/benchmarks.md)
##        SMOKE=1 (or `make bench-smoke`): a few seconds per figure, no targets enforced
bench: $(VENV)/.installed-dev
	@command -v wrk >/dev/null 2>&1 || { echo "make bench needs wrk: apt-get install wrk"; exit 2; }
	$(BIN)/python -m bench $(if $(SMOKE),--smoke)

bench-smoke:
	$(MAKE) bench SMOKE=1

## peers: independent ActivityPub implementations the interop tests run against (npm)
peers:
	@if command -v npm >/dev/null 2>&1; then \
		for peer in $(NODE_PEERS); do \
			[ -d $$peer/node_modules ] || npm ci --prefix $$peer --no-audit --no-fund --loglevel=error || exit 1; \
		done; \
	else echo "npm not found: interop tests against Fedify will be skipped"; fi

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/lint-imports
	$(BIN)/mypy fedgroups

format: $(VENV)/.installed-dev
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

## migrations: write a new migration after changing fedgroups/models
migrations: $(VENV)/.installed-dev
	$(BIN)/tortoise -c fedgroups.db.MIGRATIONS_CONFIG makemigrations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
