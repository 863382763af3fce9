# The two commands the README promises: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint typecheck bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: bring up the fault plane and show faults working on a live connection
demo: $(STAMP)
	$(BIN)/python -m harness.faults.demo

## test: lint, type-check and every test, slow suites included (what CI runs)
test: lint typecheck
	$(BIN)/python -m pytest

## test-fast: the development loop, without the slow end-to-end suites
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

## bench: the benchmarks; they print figures and ratios, never pass or fail
bench: $(STAMP)
	$(BIN)/python bench/proxy_overhead.py
	$(BIN)/python bench/rithmic_order_rtt.py
	$(BIN)/python bench/rithmic_fanout.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
