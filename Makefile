# One entry point for people and CI. `make demo` and `make test` are the README's two fresh-machine commands.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Azurite (the Azure Blob emulator the tests run), pinned in package-lock.json; only the tests need Node.js
NODE_STAMP := node_modules/.installed

.PHONY: install install-test demo test lint check format screenshots bench clean

install: $(STAMP)

# the lock pins boto3/botocore together with aiobotocore (which pins botocore narrowly)
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "make: npm not found: the tests run Azurite on Node.js (apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# what the tests need on top of install: Azurite from npm (`make demo` needs neither npm nor Node.js)
install-test: install $(NODE_STAMP)

demo: install
	$(BIN)/cloudpane --demo

# all tests, with the real test servers (moto, rclone serve s3, Azurite) started by the suite itself, on
# TEST_WORKERS processes (pytest-xdist; each worker starts its own servers, so nothing is shared between workers;
# the tests wait on servers and subprocesses, so one more worker than the CI's 2 cores); one test file stays on one
# worker (its module fixtures start once), the slow folders' files first (tests/conftest.py; not xdist's own order,
# most tests first, which leaves the few slow CLI tests to the end). `make test TEST_WORKERS=0`: one process.
TEST_WORKERS ?= 3
test: install-test
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

lint: install
	$(BIN)/ruff format --check tui tests bench
	$(BIN)/ruff check tui tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

check: lint test

format: install
	$(BIN)/ruff format tui tests bench
	$(BIN)/ruff check --fix tui tests bench

# regenerate the pictures in screenshots/ from the real app on the demo data
screenshots: install
	$(BIN)/python -m tui.ui.screenshots screenshots

# peer comparison (not a test): s5cmd, aws cli and rclone against one local rclone serve s3; writes bench/RESULTS.md
bench: install
	bash bench/setup.sh
	$(BIN)/python bench/run.py

lock:
	$(BIN)/pip install -q uv && $(BIN)/uv pip compile pyproject.toml --extra dev -p 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache node_modules
