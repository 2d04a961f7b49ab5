# Set-up and everyday commands. `make run` and `make test` need nothing but Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint typecheck pytest bench schema clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

# what tests and lint need on top (browsers drivers, real clients, ruff, mypy): not installed by `make run`
$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

# Start the gateway on the embedded PostgreSQL; the first run also creates credentials and prints them.
run: $(STAMP)
	@$(BIN)/analytics-gateway bootstrap --json > /dev/null
	@$(BIN)/python -m gateway.cli.welcome
	$(BIN)/analytics-gateway serve

node_modules/.installed: package.json
	@if command -v npm >/dev/null 2>&1; then npm install --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: tests that drive npm SDKs will be skipped"; fi

test: $(TEST_STAMP) node_modules/.installed
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "chromium could not be installed"; fi
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q

schema: $(STAMP)
	$(BIN)/analytics-gateway export-schema -o schema.graphql

bench: $(TEST_STAMP) node_modules/.installed
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules .mypy_cache .pytest_cache .ruff_cache
